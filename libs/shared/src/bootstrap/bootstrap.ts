import { randomUUID } from 'node:crypto';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { ConfigError, loadConfig, type ServiceConfig } from '../config/config.js';
import { CORRELATION_HEADER, runWithCorrelation } from '../logging/correlation.js';
import { createLogger, PinoNestLogger } from '../logging/logger.js';

export interface ServiceDefinition<C extends ServiceConfig> {
  name: string;
  config: new () => C;
  port: (config: C) => number;
  module: (config: C, logger: Logger) => DynamicModule;
  /** Extra set-up of the HTTP app before it listens (the gateway's API docs). */
  configure?: (app: INestApplication, config: C) => void;
}

/**
 * Starts one service: validated config (a bad variable stops it with a message naming it), structured logs
 * carrying the correlation id of each request, graceful shutdown on SIGTERM/SIGINT.
 */
export async function bootstrapService<C extends ServiceConfig>(definition: ServiceDefinition<C>): Promise<INestApplication> {
  let config: C;
  try {
    config = loadConfig(definition.config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${definition.name}: ${error.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  const logger = createLogger(definition.name, config.GEOJOBS_LOG_LEVEL);
  const app = await NestFactory.create(definition.module(config, logger), { logger: new PinoNestLogger(logger) });
  app.use(
    pinoHttp({
      logger,
      genReqId: (request, response) => {
        const id = request.headers[CORRELATION_HEADER];
        const correlationId = typeof id === 'string' && id.length > 0 && id.length <= 200 ? id : randomUUID();
        response.setHeader(CORRELATION_HEADER, correlationId);
        return correlationId;
      },
      autoLogging: { ignore: (request) => request.url === '/health' },
    }),
  );
  app.use((request: { id: string }, _response: unknown, next: () => void) =>
    runWithCorrelation({ correlationId: request.id }, next),
  );
  // API answers are fresh by nature; hashing every JSON body for an ETag costs CPU for nothing (tiles set their own)
  (app.getHttpAdapter().getInstance() as { set(name: string, value: unknown): void }).set('etag', false);
  definition.configure?.(app, config);
  app.enableShutdownHooks();
  const port = definition.port(config);
  await app.listen(port, config.GEOJOBS_HTTP_HOST);
  logger.info({ url: `http://${config.GEOJOBS_HTTP_HOST}:${port}` }, `${definition.name} listening`);
  return app;
}
