import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { QUEUES, runNoop, Workers } from '#shared';
import { AnalyticsService } from '../analytics/analytics.service.js';
import { ANALYTICS_CONFIG, type AnalyticsConfig } from '../config/analytics.config.js';

/** Everything analytics-service does arrives on analytics_q; this is the one worker of that queue in the process. */
@Injectable()
export class AnalyticsCommandsConsumer implements OnModuleInit {
  constructor(
    @Inject(Workers) private readonly workers: Workers,
    @Inject(ANALYTICS_CONFIG) private readonly config: AnalyticsConfig,
    @Inject(AnalyticsService) private readonly analytics: AnalyticsService,
  ) {}

  onModuleInit(): Promise<void> {
    return this.workers.start({
      queue: QUEUES.analytics,
      prefetch: this.config.GEOJOBS_PREFETCH ?? 200,
      handlers: {
        'analytics.noop': { job: ({ payload }, job) => runNoop(payload, job) },
        // a job when it carries a jobId (POST /analytics/events, a followup); otherwise events alone, nothing reported
        'analytics.track': { job: (command, job) => this.analytics.track(command, job) },
      },
    });
  }
}
