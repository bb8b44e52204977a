import { Module } from '@nestjs/common';
import { CkanModule } from '../ckan/ckan.module.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { FollowupsConsumer } from './followups.consumer.js';
import { FollowupsRepository } from './followups.repository.js';
import { FollowupsService } from './followups.service.js';
import { WebhookClient } from './webhook.client.js';

/**
 * The followup runner: webhooks, analytics events, chained jobs and CKAN callbacks, after a job's outcome is
 * committed. It uses jobs (a chained job is submitted like any other); nothing below it uses it.
 */
@Module({
  imports: [JobsModule, CkanModule],
  providers: [FollowupsService, FollowupsConsumer, FollowupsRepository, WebhookClient],
})
export class FollowupsModule {}
