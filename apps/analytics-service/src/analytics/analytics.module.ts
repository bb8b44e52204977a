import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { ANALYTICS_CONFIG, type AnalyticsConfig } from '../config/analytics.config.js';
import { AnalyticsMetrics } from './analytics-metrics.js';
import { DestinationHttp } from './destination-http.js';
import { ANALYTICS_LOGGER, AnalyticsService } from './analytics.service.js';
import { Ga4Service } from './ga4.service.js';
import { MetricsController } from './metrics.controller.js';
import { MixpanelService } from './mixpanel.service.js';

/** Delivery of analytics events to Mixpanel and GA4, and its counters at `GET /metrics`. */
@Module({})
export class AnalyticsModule {
  static forRoot(config: AnalyticsConfig, logger: Logger): DynamicModule {
    return {
      module: AnalyticsModule,
      controllers: [MetricsController],
      providers: [
        { provide: ANALYTICS_CONFIG, useValue: config },
        { provide: ANALYTICS_LOGGER, useValue: logger.child({ component: 'analytics' }) },
        AnalyticsMetrics,
        DestinationHttp,
        MixpanelService,
        Ga4Service,
        AnalyticsService,
      ],
      exports: [AnalyticsService],
    };
  }
}
