import { Global, Module, type DynamicModule, type LoggerService } from '@nestjs/common';
import { pino, type Logger } from 'pino';
import { currentCorrelation } from './correlation.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The process-wide pino logger: JSON lines, each carrying the job id of the request or message being handled. */
export function createLogger(service: string, level: LogLevel): Logger {
  return pino(
    {
      name: service,
      level,
      base: { service },
      mixin: () => {
        const context = currentCorrelation();
        return context ? { correlationId: context.correlationId, messageId: context.messageId } : {};
      },
    },
    // Asynchronous writes: lines logged while a write is in flight go out together in the next one, rather
    // than a blocking system call per line at a few thousand requests a second. Flushed on exit.
    pino.destination({ dest: 1, sync: false }),
  );
}

/** Nest's logger interface over pino, so framework messages come out as the same structured lines. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }

  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }

  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }

  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }

  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}

/** The injection token of the process's pino logger (`LoggerModule`), for classes that log structured lines. */
export const LOGGER = Symbol('LOGGER');

/** Makes the process's pino logger injectable everywhere as `LOGGER`. */
@Global()
@Module({})
export class LoggerModule {
  static forRoot(logger: Logger): DynamicModule {
    return { module: LoggerModule, providers: [{ provide: LOGGER, useValue: logger }], exports: [LOGGER] };
  }
}
