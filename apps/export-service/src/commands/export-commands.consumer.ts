import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Broker, JobCancellations, JobReporter, QUEUES, runNoop } from '#shared';
import { EXPORT_CONFIG, type ExportConfig } from '../config/export.config.js';

/** Everything export-service does arrives on export_q; this is the one consumer of that queue in the process. */
@Injectable()
export class ExportCommandsConsumer implements OnModuleInit {
  private readonly reporter: JobReporter;

  constructor(
    @Inject(Broker) private readonly broker: Broker,
    @Inject(JobCancellations) private readonly cancellations: JobCancellations,
    @Inject(EXPORT_CONFIG) private readonly config: ExportConfig,
  ) {
    this.reporter = new JobReporter(broker, 'export');
  }

  async onModuleInit(): Promise<void> {
    await this.broker.consumeCommands(QUEUES.export, this.config.GEOJOBS_PREFETCH ?? 4, {
      'export.noop': (command) => this.cancellations.run(command.payload.jobId, (signal) => runNoop(command, this.reporter, signal)),
    });
  }
}
