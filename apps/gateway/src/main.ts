import { ValidationPipe } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { bootstrapService } from '#shared';
import { AppModule } from './app.module.js';
import { GatewayConfig } from './config/gateway.config.js';
import { TilesRoute } from './layers/tiles.route.js';

await bootstrapService({
  name: 'gateway',
  config: GatewayConfig,
  port: (config) => config.GEOJOBS_GATEWAY_PORT,
  module: (config, logger) => AppModule.forRoot(config, logger),
  configure: (app, config) => {
    const express = app as NestExpressApplication;
    express.useBodyParser('json', { limit: config.GEOJOBS_MAX_BODY_BYTES });
    express.useBodyParser('urlencoded', { limit: config.GEOJOBS_MAX_BODY_BYTES, extended: true });
    app.useGlobalPipes(new ValidationPipe({ whitelist: true, transform: true }));
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('geojobs')
        .setDescription('Background jobs of the open-data portal: geopreview, exports, packages, analytics')
        .setVersion('1')
        .addBearerAuth()
        .build(),
    );
    SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json' });
  },
  ahead: (app) => app.get(TilesRoute),
});
