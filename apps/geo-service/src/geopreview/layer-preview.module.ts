import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { HostPolicy, LOGGER, PipelineRunner, PostgresStepCache, STORAGE, type Storage } from '#shared';
import { GEO_CONFIG, type GeoConfig } from '../config/geo.config.js';
import { LayerDeletionService } from '../layers/layer-deletion.service.js';
import { DescribeService } from './describe.service.js';
import { DownloadService } from './download.service.js';
import { GdalTranslationService } from './gdal-translation.service.js';
import { ImportService } from './import.service.js';
import { LayerPreviewService } from './layer-preview.service.js';
import { LeftoversSweeper } from './leftovers.sweeper.js';
import { NotifyService } from './notify.service.js';
import { SourceService } from './source.service.js';
import { StagingTablesRepository } from './staging-tables.repository.js';
import { GeopreviewDependencies } from './steps/geopreview.steps.js';
import { UnpackService } from './unpack.service.js';

/**
 * Geopreview (`geo.preview`, `geo.preview.merge`) and layer deletion (`geo.layer.delete`), for geo-service's consumer.
 * The classes configured with plain values (limits, URLs) or a logger of their own are built here from GeoConfig;
 * the others are injected as they are.
 */
@Module({})
export class LayerPreviewModule {
  static forRoot(logger: Logger): DynamicModule {
    const geopreviewLogger = logger.child({ component: 'geopreview' });
    return {
      module: LayerPreviewModule,
      providers: [
        // the shared LOGGER token, as the gateway's classes inject it; here it is geopreview's child logger
        { provide: LOGGER, useValue: geopreviewLogger },
        {
          provide: HostPolicy,
          useFactory: (config: GeoConfig) => new HostPolicy(config.GEOJOBS_ALLOWED_HOSTS),
          inject: [GEO_CONFIG],
        },
        {
          provide: DownloadService,
          useFactory: (config: GeoConfig, policy: HostPolicy, storage: Storage) => {
            const limits = {
              maxBytes: config.GEOJOBS_GEO_MAX_DOWNLOAD_BYTES,
              connectTimeoutMs: config.GEOJOBS_GEO_CONNECT_TIMEOUT_MS,
              readTimeoutMs: config.GEOJOBS_GEO_READ_TIMEOUT_MS,
              totalTimeoutMs: config.GEOJOBS_GEO_DOWNLOAD_TIMEOUT_MS,
            };
            const portal = config.CKAN_API_BASE_URL && config.CKAN_API_KEY ? { baseUrl: config.CKAN_API_BASE_URL, apiKey: config.CKAN_API_KEY } : undefined;
            return new DownloadService(policy, limits, storage, portal);
          },
          inject: [GEO_CONFIG, HostPolicy, STORAGE],
        },
        {
          provide: NotifyService,
          useFactory: (config: GeoConfig, policy: HostPolicy) => new NotifyService(config, policy, geopreviewLogger.child({ component: 'notify' })),
          inject: [GEO_CONFIG, HostPolicy],
        },
        {
          provide: UnpackService,
          useFactory: (config: GeoConfig) =>
            new UnpackService({
              maxUnpackedBytes: config.GEOJOBS_GEO_MAX_UNPACKED_BYTES,
              maxRatio: config.GEOJOBS_GEO_MAX_UNPACK_RATIO,
              maxEntries: config.GEOJOBS_GEO_MAX_ARCHIVE_ENTRIES,
            }),
          inject: [GEO_CONFIG],
        },
        {
          provide: GdalTranslationService,
          useFactory: (config: GeoConfig, database: DataSource) => new GdalTranslationService(config.GEOJOBS_GEO_DATABASE_URL, database),
          inject: [GEO_CONFIG, DataSource],
        },
        {
          // geopreview's steps cached in the layers schema, shared by every copy of geo-service
          provide: PipelineRunner,
          useFactory: (config: GeoConfig, database: DataSource) =>
            new PipelineRunner({ cache: new PostgresStepCache(database, 'layers'), scratchRoot: config.GEOJOBS_GEO_SCRATCH_DIR }),
          inject: [GEO_CONFIG, DataSource],
        },
        SourceService,
        DescribeService,
        StagingTablesRepository,
        ImportService,
        LeftoversSweeper,
        GeopreviewDependencies,
        LayerPreviewService,
        {
          provide: LayerDeletionService,
          useFactory: (database: DataSource) => new LayerDeletionService(database, logger.child({ component: 'layers' })),
          inject: [DataSource],
        },
      ],
      exports: [LayerPreviewService, LayerDeletionService],
    };
  }
}
