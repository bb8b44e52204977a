import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { QUEUES, runNoop, Workers } from '#shared';
import { GEO_CONFIG, type GeoConfig } from '../config/geo.config.js';
import { LayerPreviewService } from '../geopreview/layer-preview.service.js';
import { LayerDeletionService } from '../layers/layer-deletion.service.js';

/** Everything geo-service does arrives on geo_q; this is the one worker of that queue in the process. */
@Injectable()
export class GeoCommandsConsumer implements OnModuleInit {
  constructor(
    @Inject(Workers) private readonly workers: Workers,
    @Inject(GEO_CONFIG) private readonly config: GeoConfig,
    @Inject(LayerPreviewService) private readonly geopreview: LayerPreviewService,
    @Inject(LayerDeletionService) private readonly layers: LayerDeletionService,
  ) {}

  onModuleInit(): Promise<void> {
    return this.workers.start({
      queue: QUEUES.geo,
      prefetch: this.config.GEOJOBS_PREFETCH ?? 4,
      handlers: {
        'geo.noop': { job: ({ payload }, job) => runNoop(payload, job) },
        'geo.preview': { job: (command, job) => this.geopreview.run(command, job) },
        'geo.preview.merge': { job: (command) => this.geopreview.merge(command) },
        'geo.layer.delete': { job: ({ payload }) => this.layers.run(payload) },
      },
    });
  }
}
