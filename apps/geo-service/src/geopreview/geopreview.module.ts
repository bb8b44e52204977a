import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { Broker, STORAGE, type Storage } from '#shared';
import { GEO_CONFIG, type GeoConfig } from '../config/geo.config.js';
import { LayerDeletionService } from '../layers/layer-deletion.service.js';
import { GeopreviewService } from './geopreview.service.js';

@Module({})
export class GeopreviewModule {
  static forRoot(logger: Logger): DynamicModule {
    return {
      module: GeopreviewModule,
      providers: [
        {
          provide: GeopreviewService,
          useFactory: (config: GeoConfig, database: DataSource, broker: Broker, storage: Storage) =>
            new GeopreviewService(config, database, broker, storage, logger.child({ component: 'geopreview' })),
          inject: [GEO_CONFIG, DataSource, Broker, STORAGE],
        },
        {
          provide: LayerDeletionService,
          useFactory: (database: DataSource) => new LayerDeletionService(database, logger.child({ component: 'layers' })),
          inject: [DataSource],
        },
      ],
      exports: [GeopreviewService, LayerDeletionService],
    };
  }
}
