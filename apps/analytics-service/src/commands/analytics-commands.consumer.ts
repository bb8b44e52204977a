import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Broker, JobCancellations, JobReporter, QUEUES, runNoop } from '#shared';
import { AnalyticsService } from '../analytics/analytics.service.js';
import { ANALYTICS_CONFIG, type AnalyticsConfig } from '../config/analytics.config.js';

/** Everything analytics-service does arrives on analytics_q; this is the one consumer of that queue in the process. */
@Injectable()
export class AnalyticsCommandsConsumer implements OnModuleInit {
  private readonly reporter: JobReporter;

  constructor(
    @Inject(Broker) private readonly broker: Broker,
    @Inject(JobCancellations) private readonly cancellations: JobCancellations,
    @Inject(ANALYTICS_CONFIG) private readonly config: AnalyticsConfig,
    @Inject(AnalyticsService) private readonly analytics: AnalyticsService,
  ) {
    this.reporter = new JobReporter(broker, 'analytics');
  }

  async onModuleInit(): Promise<void> {
    await this.broker.consumeCommands(QUEUES.analytics, this.config.GEOJOBS_PREFETCH ?? 200, {
      'analytics.noop': (command) => this.cancellations.run(command.payload.jobId, (signal) => runNoop(command, this.reporter, signal)),
      'analytics.track': (command, context) => this.analytics.track(command, context),
    });
  }
}
