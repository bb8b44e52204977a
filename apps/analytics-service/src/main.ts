import { bootstrapService } from '#shared';
import { AppModule } from './app.module.js';
import { AnalyticsConfig } from './config/analytics.config.js';

await bootstrapService({
  name: 'analytics-service',
  config: AnalyticsConfig,
  port: (config) => config.GEOJOBS_ANALYTICS_PORT,
  module: (config, logger) => AppModule.forRoot(config, logger),
});
