import {
  BadRequestException,
  Catch,
  ConflictException,
  GoneException,
  HttpException,
  HttpStatus,
  NotFoundException,
  ServiceUnavailableException,
  type ArgumentsHost,
} from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Response } from 'express';
import { isDatabaseUnavailable } from './database-unavailable.js';
import { DomainError, InvalidRequestError, LimitReachedError } from './domain-error.js';

/** What a client is told to wait before trying again while the database is away. */
const RETRY_AFTER_SECONDS = 5;

/**
 * The one place errors become HTTP answers that Nest would not make itself, registered for the whole gateway:
 * domain errors by their kind (the bodies are Nest's own for those statuses, `{statusCode, message, error}`, an invalid
 * request's problems as a list; a limit reached is a 429 with the Retry-After its error names), and a database that cannot be reached — down, restarting, failing over — as a 503
 * with Retry-After, wherever it was met (a guard reading an API key, a service, a repository): the gateway keeps
 * running and answers again as soon as the pool can connect. Anything else goes to Nest's own handling.
 */
@Catch()
export class ApiErrorFilter extends BaseExceptionFilter {
  override catch(error: unknown, host: ArgumentsHost): void {
    const answer = error instanceof DomainError ? toHttp(error) : isDatabaseUnavailable(error) ? databaseUnavailable() : undefined;
    if (!answer) return super.catch(error, host);
    const response = host.switchToHttp().getResponse<Response>();
    const retryAfter =
      error instanceof LimitReachedError ? error.retryAfterSeconds : answer instanceof ServiceUnavailableException ? RETRY_AFTER_SECONDS : null;
    if (retryAfter !== null) response.setHeader('retry-after', String(retryAfter));
    response.status(answer.getStatus()).json(answer.getResponse());
  }
}

const databaseUnavailable = () => new ServiceUnavailableException('the database is unavailable for the moment; try again in a few seconds');

export function toHttp(error: DomainError): HttpException {
  switch (error.kind) {
    case 'invalid':
      return new BadRequestException(error instanceof InvalidRequestError ? [...error.problems] : [error.message]);
    case 'not-found':
      return new NotFoundException(error.message);
    case 'conflict':
      return new ConflictException(error.message);
    case 'gone':
      return new GoneException(error.message);
    case 'limit':
      return new HttpException({ statusCode: HttpStatus.TOO_MANY_REQUESTS, error: 'Too Many Requests', message: error.message }, HttpStatus.TOO_MANY_REQUESTS);
  }
}
