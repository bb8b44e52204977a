import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { QUEUES, runNoop, Workers } from '#shared';
import { EXPORT_CONFIG, type ExportConfig } from '../config/export.config.js';

/** Everything export-service does arrives on export_q; this is the one worker of that queue in the process. */
@Injectable()
export class ExportCommandsConsumer implements OnModuleInit {
  constructor(
    @Inject(Workers) private readonly workers: Workers,
    @Inject(EXPORT_CONFIG) private readonly config: ExportConfig,
  ) {}

  onModuleInit(): Promise<void> {
    return this.workers.start({
      queue: QUEUES.export,
      prefetch: this.config.GEOJOBS_PREFETCH ?? 4,
      handlers: {
        'export.noop': { job: ({ payload }, job) => runNoop(payload, job) },
      },
    });
  }
}
