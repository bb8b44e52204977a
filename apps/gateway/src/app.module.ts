import { Module, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Logger } from 'pino';
import { BrokerModule, brokerOptionsFrom, databaseModule, HealthModule, LoggerModule, StorageModule } from '#shared';
import { AnalyticsIntakeModule } from './analytics/analytics-intake.module.js';
import { AuthModule } from './auth/auth.module.js';
import { CkanModule } from './ckan/ckan.module.js';
import { ApiErrorFilter } from './common/api-error.filter.js';
import { GATEWAY_CONFIG, type GatewayConfig } from './config/gateway.config.js';
import { GeopreviewModule } from './geopreview/geopreview.module.js';
import { ExportsModule } from './exports/exports.module.js';
import { FilesModule } from './files/files.module.js';
import { FollowupsModule } from './followups/followups.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { LayersModule } from './layers/layers.module.js';
import { HttpMetricsMiddleware, MetricsModule } from './metrics/metrics.module.js';

@Module({})
export class AppModule implements NestModule {
  static forRoot(config: GatewayConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        LoggerModule.forRoot(logger),
        BrokerModule.forRoot(brokerOptionsFrom(config, 'gateway'), logger),
        databaseModule(config.GEOJOBS_GATEWAY_DATABASE_URL),
        StorageModule.forRoot(config),
        HealthModule.forRoot({ database: true, storage: true }),
        AuthModule.forRoot(config),
        JobsModule,
        CkanModule,
        AnalyticsIntakeModule,
        LayersModule,
        GeopreviewModule,
        ExportsModule,
        FollowupsModule,
        FilesModule,
        MetricsModule,
      ],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: APP_FILTER, useClass: ApiErrorFilter },
      ],
      exports: [GATEWAY_CONFIG],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*');
  }
}
