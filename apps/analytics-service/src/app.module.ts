import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { BrokerModule, brokerOptionsFrom, HealthModule } from '#shared';
import { AnalyticsModule } from './analytics/analytics.module.js';
import { AnalyticsCommandsConsumer } from './commands/analytics-commands.consumer.js';
import { ANALYTICS_CONFIG, type AnalyticsConfig } from './config/analytics.config.js';

@Module({})
export class AppModule {
  static forRoot(config: AnalyticsConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        BrokerModule.forRoot(brokerOptionsFrom(config, 'analytics-service'), logger),
        HealthModule.forRoot({ database: false }),
        AnalyticsModule.forRoot(config, logger),
      ],
      providers: [{ provide: ANALYTICS_CONFIG, useValue: config }, AnalyticsCommandsConsumer],
    };
  }
}
