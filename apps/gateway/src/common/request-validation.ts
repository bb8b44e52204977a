import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { describeValidationErrors } from '#shared';
import { InvalidRequestError } from './domain-error.js';

/** A body or a part of one failed its DTO's validation; every problem is named with its place. */
export class InvalidFieldsError extends InvalidRequestError {
  readonly code = 'REQUEST.INVALID_FIELDS';
}

/**
 * Validates a plain value against a DTO class the way the global ValidationPipe does (unknown fields
 * stripped), for bodies the pipe cannot type: a job or an array of jobs, an input chosen by the job type.
 * Problems are reported under `path`, so the caller sees which field of which job is wrong.
 */
export function validated<T extends object>(cls: new () => T, plain: unknown, path: string): T {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    throw new InvalidFieldsError([`${path || 'body'} must be an object`]);
  }
  const instance = plainToInstance(cls, plain);
  const errors = validateSync(instance, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) throw new InvalidFieldsError(describeValidationErrors(errors, path ? `${path}.` : '').split('; '));
  return instance;
}
