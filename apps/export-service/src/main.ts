import { bootstrapService } from '#shared';
import { AppModule } from './app.module.js';
import { ExportConfig } from './config/export.config.js';

await bootstrapService({
  name: 'export-service',
  config: ExportConfig,
  port: (config) => config.GEOJOBS_EXPORT_PORT,
  module: (config, logger) => AppModule.forRoot(config, logger),
});
