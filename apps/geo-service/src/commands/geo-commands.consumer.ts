import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Broker, JobCancellations, JobReporter, QUEUES, runNoop } from '#shared';
import { GEO_CONFIG, type GeoConfig } from '../config/geo.config.js';
import { LayerPreviewService } from '../geopreview/layer-preview.service.js';
import { LayerDeletionService } from '../layers/layer-deletion.service.js';

/** Everything geo-service does arrives on geo_q; this is the one consumer of that queue in the process. */
@Injectable()
export class GeoCommandsConsumer implements OnModuleInit {
  private readonly reporter: JobReporter;

  constructor(
    @Inject(Broker) private readonly broker: Broker,
    @Inject(JobCancellations) private readonly cancellations: JobCancellations,
    @Inject(GEO_CONFIG) private readonly config: GeoConfig,
    @Inject(LayerPreviewService) private readonly geopreview: LayerPreviewService,
    @Inject(LayerDeletionService) private readonly layers: LayerDeletionService,
  ) {
    this.reporter = new JobReporter(broker, 'geo');
  }

  async onModuleInit(): Promise<void> {
    await this.broker.consumeCommands(QUEUES.geo, this.config.GEOJOBS_PREFETCH ?? 4, {
      'geo.noop': (command) => this.cancellations.run(command.payload.jobId, (signal) => runNoop(command, this.reporter, signal)),
      'geo.preview': (command) => this.cancellations.run(command.payload.jobId, (signal) => this.geopreview.run(command, this.reporter, signal)),
      'geo.preview.merge': (command) => this.cancellations.run(command.payload.jobId, () => this.geopreview.merge(command, this.reporter)),
      'geo.layer.delete': (command) => this.cancellations.run(command.payload.jobId, () => this.layers.run(command, this.reporter)),
    });
  }
}
