import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { FollowupsConsumer } from './followups.consumer.js';
import { FollowupsService } from './followups.service.js';
import { WebhookClient } from './webhook.client.js';

/** The followup runner: webhooks, analytics events and chained jobs, after a job's outcome is committed. */
@Module({
  imports: [JobsModule],
  providers: [FollowupsService, FollowupsConsumer, WebhookClient],
})
export class FollowupsModule {}
