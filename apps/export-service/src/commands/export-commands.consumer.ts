import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { QUEUES, runNoop, Workers } from '#shared';
import { EXPORT_CONFIG, type ExportConfig } from '../config/export.config.js';
import { ConvertService } from '../convert/convert.service.js';
import { DatasetExportService } from '../dataset-export/dataset-export.service.js';
import { LayersExportService } from '../layers-export/layers-export.service.js';
import { BoundariesLoadService } from '../packages/boundaries/boundaries-load.service.js';
import { PackageService } from '../packages/package.service.js';

/** Everything export-service does arrives on export_q; this is the one worker of that queue in the process. */
@Injectable()
export class ExportCommandsConsumer implements OnModuleInit {
  constructor(
    @Inject(Workers) private readonly workers: Workers,
    @Inject(EXPORT_CONFIG) private readonly config: ExportConfig,
    @Inject(LayersExportService) private readonly layers: LayersExportService,
    @Inject(DatasetExportService) private readonly datasets: DatasetExportService,
    @Inject(ConvertService) private readonly convert: ConvertService,
    @Inject(PackageService) private readonly packages: PackageService,
    @Inject(BoundariesLoadService) private readonly boundaries: BoundariesLoadService,
  ) {}

  onModuleInit(): Promise<void> {
    return this.workers.start({
      queue: QUEUES.export,
      prefetch: this.config.GEOJOBS_PREFETCH ?? 2,
      handlers: {
        'export.noop': { job: ({ payload }, job) => runNoop(payload, job) },
        'export.layers': { job: (command, job) => this.layers.run(command, job) },
        'export.dataset': { job: (command, job) => this.datasets.run(command, job) },
        'export.resource': { job: (command, job) => this.datasets.resource(command, job) },
        'export.dataset.merge': { job: (command, job) => this.datasets.merge(command, job) },
        'export.convert': { job: (command, job) => this.convert.run(command, job) },
        'package.build': { job: (command, job) => this.packages.build(command, job) },
        'package.process': { job: (command, job) => this.packages.process(command, job) },
        'package.provenance': { job: (command, job) => this.packages.provenance(command, job) },
        'package.boundaries.load': { job: (command, job) => this.boundaries.load(command, job) },
      },
    });
  }
}
