import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { AnalyticsController } from './analytics.controller.js';
import { AnalyticsIntakeService } from './analytics-intake.service.js';

/** `POST /analytics/events` and HDX's `POST /api/send-analytics`: events queued as analytics.track jobs. */
@Module({
  imports: [JobsModule],
  controllers: [AnalyticsController],
  providers: [AnalyticsIntakeService],
})
export class AnalyticsIntakeModule {}
