import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { BrokerModule, brokerOptionsFrom, databaseModule, HealthModule } from '#shared';
import { GeoCommandsConsumer } from './commands/geo-commands.consumer.js';
import { GEO_CONFIG, type GeoConfig } from './config/geo.config.js';

@Module({})
export class AppModule {
  static forRoot(config: GeoConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        BrokerModule.forRoot(brokerOptionsFrom(config, 'geo-service'), logger),
        databaseModule(config.GEOJOBS_GEO_DATABASE_URL),
        HealthModule.forRoot({ database: true }),
      ],
      providers: [{ provide: GEO_CONFIG, useValue: config }, GeoCommandsConsumer],
    };
  }
}
