import { bootstrapService } from '#shared';
import { AppModule } from './app.module.js';
import { GeoConfig } from './config/geo.config.js';

await bootstrapService({
  name: 'geo-service',
  config: GeoConfig,
  port: (config) => config.GEOJOBS_GEO_PORT,
  module: (config, logger) => AppModule.forRoot(config, logger),
});
