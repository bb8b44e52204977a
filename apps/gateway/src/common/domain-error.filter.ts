import {
  BadRequestException,
  Catch,
  ConflictException,
  GoneException,
  NotFoundException,
  type ArgumentsHost,
  type ExceptionFilter,
  type HttpException,
} from '@nestjs/common';
import type { Response } from 'express';
import { DomainError, InvalidRequestError } from './domain-error.js';

/**
 * The one place domain errors become HTTP answers, registered for the whole gateway. The bodies are Nest's own
 * for those statuses (`{statusCode, message, error}`, an invalid request's problems as a list), the same clients
 * got when domain code threw HTTP exceptions itself.
 */
@Catch(DomainError)
export class DomainErrorFilter implements ExceptionFilter<DomainError> {
  catch(error: DomainError, host: ArgumentsHost): void {
    const answer = toHttp(error);
    host.switchToHttp().getResponse<Response>().status(answer.getStatus()).json(answer.getResponse());
  }
}

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
  }
}
