import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { BrokerModule, brokerOptionsFrom, databaseModule, HealthModule, StorageModule } from '#shared';
import { GeoCommandsConsumer } from './commands/geo-commands.consumer.js';
import { GEO_CONFIG, type GeoConfig } from './config/geo.config.js';
import { LayerPreviewModule } from './geopreview/layer-preview.module.js';

@Global()
@Module({})
class GeoConfigModule {
  static forRoot(config: GeoConfig): DynamicModule {
    return { module: GeoConfigModule, providers: [{ provide: GEO_CONFIG, useValue: config }], exports: [GEO_CONFIG] };
  }
}

@Module({})
export class AppModule {
  static forRoot(config: GeoConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        GeoConfigModule.forRoot(config),
        BrokerModule.forRoot(brokerOptionsFrom(config, 'geo-service'), logger),
        databaseModule(config.GEOJOBS_GEO_DATABASE_URL),
        StorageModule.forRoot(config),
        HealthModule.forRoot({ database: true, storage: true }),
        LayerPreviewModule.forRoot(logger),
      ],
      providers: [GeoCommandsConsumer],
    };
  }
}
