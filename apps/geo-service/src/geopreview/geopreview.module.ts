import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { Broker, STORAGE, type Storage } from '#shared';
import { GEO_CONFIG, type GeoConfig } from '../config/geo.config.js';
import { LayerDeletionService } from '../layers/layer-deletion.service.js';
import { GEOPREVIEW_LOGGER } from './geopreview.logger.js';
import { GeopreviewService } from './geopreview.service.js';
import { LeftoversSweeper } from './leftovers.sweeper.js';
import { StagingTablesRepository } from './staging-tables.repository.js';

@Module({})
export class GeopreviewModule {
  static forRoot(logger: Logger): DynamicModule {
    return {
      module: GeopreviewModule,
      providers: [
        { provide: GEOPREVIEW_LOGGER, useValue: logger.child({ component: 'geopreview' }) },
        StagingTablesRepository,
        LeftoversSweeper,
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
