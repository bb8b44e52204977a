import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { BrokerModule, brokerOptionsFrom, databaseModule, HealthModule } from '#shared';
import type { GatewayConfig } from './config/gateway.config.js';

@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        BrokerModule.forRoot(brokerOptionsFrom(config, 'gateway'), logger),
        databaseModule(config.GEOJOBS_GATEWAY_DATABASE_URL),
        HealthModule.forRoot({ database: true }),
      ],
    };
  }
}
