import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { HostPolicy, LOGGER, PipelineRunner, PostgresStepCache } from '#shared';
import { EXPORT_CONFIG, type ExportConfig } from '../config/export.config.js';

/**
 * What every export feature shares: the config, the logger, the host policy of downloads, and the pipeline runner
 * whose step cache (in export-service's own `packages` schema) is shared by every copy of the service.
 */
@Global()
@Module({})
export class ExportCommonModule {
  static forRoot(config: ExportConfig, logger: Logger): DynamicModule {
    return {
      module: ExportCommonModule,
      providers: [
        { provide: EXPORT_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: HostPolicy, useValue: new HostPolicy(config.GEOJOBS_ALLOWED_HOSTS) },
        {
          provide: PipelineRunner,
          useFactory: (database: DataSource) =>
            new PipelineRunner({ cache: new PostgresStepCache(database, 'packages'), scratchRoot: config.GEOJOBS_EXPORT_SCRATCH_DIR }),
          inject: [DataSource],
        },
      ],
      exports: [EXPORT_CONFIG, LOGGER, HostPolicy, PipelineRunner],
    };
  }
}
