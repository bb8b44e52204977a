import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { ConfigError, loadConfig, type ServiceConfig } from '../config/config.js';
import { CORRELATION_HEADER, runWithCorrelation } from '../logging/correlation.js';
import { createLogger, PinoNestLogger } from '../logging/logger.js';

/**
 * A route answered on the HTTP server ahead of the framework (Express, then Nest's guards, pipes and global
 * middleware), for a hot path that needs none of them. `claims` tells from the request line alone whether it tries a
 * request; `handle` answers it, or calls `next` to hand it to the framework, which then answers it as if it had come
 * straight there, with the same request context as every other request. A request answered here carries the same
 * correlation id, and its log line is written at debug level: pino-http's line (a child logger with the request
 * serialized, then the line) was measured at ~60 µs of a public tile's ~1 ms, and a map asks for dozens at a time.
 */
export interface AheadRoute {
  claims(request: IncomingMessage): boolean;
  handle(request: IncomingMessage, response: ServerResponse, next: () => void): void;
}

export interface ServiceDefinition<C extends ServiceConfig> {
  name: string;
  config: new () => C;
  port: (config: C) => number;
  module: (config: C, logger: Logger) => DynamicModule;
  /** Extra set-up of the HTTP app before it listens (the gateway's API docs). */
  configure?: (app: INestApplication, config: C) => void;
  /** A route served ahead of the framework (the gateway's public tiles). */
  ahead?: (app: INestApplication, config: C) => AheadRoute;
}

type Middleware = (request: IncomingMessage, response: ServerResponse, next: () => void) => void;

/** A request's correlation id: its `x-correlation-id` when it has a usable one, else a new one; echoed on the response. */
function correlationIdOf(request: IncomingMessage, response: ServerResponse): string {
  const id = request.headers[CORRELATION_HEADER];
  const correlationId = typeof id === 'string' && id.length > 0 && id.length <= 200 ? id : randomUUID();
  response.setHeader(CORRELATION_HEADER, correlationId);
  return correlationId;
}

/** Query parameters that carry a credential (HDX's `?key=`, a TmpToken's `?token=`), as a request line shows them. */
const CREDENTIAL_IN_QUERY = /([?&](?:key|token|api_key|access_token)=)[^&#]*/gi;

export const redactedUrl = (url: string): string => url.replace(CREDENTIAL_IN_QUERY, '$1[redacted]');

/**
 * What a request's log line says of it and of its answer: no headers (pino-http's default logs them all, the
 * `Authorization` header with its token among them) and no credential in the query; the user agent, which tells an
 * operator who calls.
 */
const REQUEST_LINE_SERIALIZERS = {
  req: (request: { id: unknown; method?: string; url?: string; remoteAddress?: string; headers: Record<string, unknown> }) => ({
    id: request.id,
    method: request.method,
    url: redactedUrl(request.url ?? ''),
    remoteAddress: request.remoteAddress,
    userAgent: request.headers['user-agent'],
  }),
  res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
};

/**
 * The context of every request the framework answers: pino-http (a line when it is answered, the correlation id as
 * its request id) and the correlation id for everything logged while handling it.
 */
function requestContext(logger: Logger): Middleware {
  const log = pinoHttp({
    logger,
    genReqId: correlationIdOf,
    serializers: REQUEST_LINE_SERIALIZERS,
    autoLogging: { ignore: (request) => request.url === '/health' },
  });
  return (request, response, next) => {
    log(request, response);
    runWithCorrelation({ correlationId: String(request.id as string) }, next);
  };
}

/**
 * Puts `route` in front of the app on its HTTP server: claimed requests go to it first, with their correlation id (kept
 * as the request id by pino-http when handed on), the rest straight to the app.
 */
function serveAhead(server: Server, route: AheadRoute, logger: Logger): void {
  const listeners = server.listeners('request') as RequestListener[];
  if (listeners.length !== 1) throw new Error(`expected the framework as the one request listener, found ${listeners.length}`);
  const [framework] = listeners;
  server.removeListener('request', framework);
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (!route.claims(request)) return framework(request, response);
    const correlationId = correlationIdOf(request, response);
    request.id = correlationId;
    let handedOn = false;
    if (logger.isLevelEnabled('debug')) {
      const started = performance.now();
      response.once('finish', () => {
        if (handedOn) return;
        const { method, url, headers, socket } = request;
        const req = REQUEST_LINE_SERIALIZERS.req({ id: correlationId, method, url, headers, remoteAddress: socket.remoteAddress });
        const responseTime = Math.round(performance.now() - started);
        logger.debug({ req, res: REQUEST_LINE_SERIALIZERS.res(response), responseTime }, 'request completed');
      });
    }
    const next = () => {
      handedOn = true;
      framework(request, response);
    };
    runWithCorrelation({ correlationId }, () => route.handle(request, response, next));
  });
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
  app.use(requestContext(logger));
  const express = app.getHttpAdapter().getInstance() as { set(name: string, value: unknown): void };
  // API answers are fresh by nature; hashing every JSON body for an ETag costs CPU for nothing (tiles set their own)
  express.set('etag', false);
  // no `X-Powered-By: Express`: it tells a scanner what runs here, and a route served ahead of Express answers without it
  express.set('x-powered-by', false);
  definition.configure?.(app, config);
  if (definition.ahead) serveAhead(app.getHttpServer() as Server, definition.ahead(app, config), logger);
  app.enableShutdownHooks();
  const port = definition.port(config);
  await app.listen(port, config.GEOJOBS_HTTP_HOST);
  logger.info({ url: `http://${config.GEOJOBS_HTTP_HOST}:${port}` }, `${definition.name} listening`);
  return app;
}
