import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { BrokerModule, brokerOptionsFrom, databaseModule, HealthModule, StorageModule } from '#shared';
import { ExportCommandsConsumer } from './commands/export-commands.consumer.js';
import { ExportCommonModule } from './common/export-common.module.js';
import type { ExportConfig } from './config/export.config.js';
import { ConvertModule } from './convert/convert.module.js';
import { DatasetExportModule } from './dataset-export/dataset-export.module.js';
import { LayersExportModule } from './layers-export/layers-export.module.js';
import { PackagesModule } from './packages/packages.module.js';

@Module({})
export class AppModule {
  static forRoot(config: ExportConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ExportCommonModule.forRoot(config, logger),
        BrokerModule.forRoot(brokerOptionsFrom(config, 'export-service'), logger),
        databaseModule(config.GEOJOBS_EXPORT_DATABASE_URL),
        StorageModule.forRoot(config),
        HealthModule.forRoot({ database: true, storage: true }),
        LayersExportModule,
        DatasetExportModule,
        ConvertModule,
        PackagesModule,
      ],
      providers: [ExportCommandsConsumer],
    };
  }
}
