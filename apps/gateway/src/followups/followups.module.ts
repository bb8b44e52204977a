import { Module } from '@nestjs/common';
import { CkanModule } from '../ckan/ckan.module.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { FollowupsConsumer } from './followups.consumer.js';
import { FollowupsService } from './followups.service.js';
import { WebhookClient } from './webhook.client.js';

/** The followup runner: webhooks, analytics events, chained jobs and CKAN callbacks, after a job's outcome is committed. */
@Module({
  imports: [JobsModule, CkanModule],
  providers: [FollowupsService, FollowupsConsumer, WebhookClient],
})
export class FollowupsModule {}
