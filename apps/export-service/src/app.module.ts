import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { BrokerModule, brokerOptionsFrom, databaseModule, HealthModule, StorageModule } from '#shared';
import { ExportCommandsConsumer } from './commands/export-commands.consumer.js';
import { EXPORT_CONFIG, type ExportConfig } from './config/export.config.js';

@Module({})
export class AppModule {
  static forRoot(config: ExportConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        BrokerModule.forRoot(brokerOptionsFrom(config, 'export-service'), logger),
        databaseModule(config.GEOJOBS_EXPORT_DATABASE_URL),
        StorageModule.forRoot(config),
        HealthModule.forRoot({ database: true, storage: true }),
      ],
      providers: [{ provide: EXPORT_CONFIG, useValue: config }, ExportCommandsConsumer],
    };
  }
}
