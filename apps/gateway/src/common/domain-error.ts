/**
 * An error of the gateway's domain: it names what went wrong with a stable `code`, never an HTTP status. What
 * kind of failure it is (the request is wrong, the thing does not exist, the thing's state forbids it) is its
 * `kind`, set by the classes below that every domain error extends; ApiErrorFilter alone maps kinds to
 * 400 / 404 / 409 / 410 / 429 at the HTTP edge, so the same errors may be thrown where no HTTP request is involved (a
 * followup submitting a job, a service's fan-out) and caught there by class.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  abstract readonly kind: 'invalid' | 'not-found' | 'conflict' | 'gone' | 'limit';

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** What was asked is not valid: each problem is named with its place (`[2].input.url must be an http(s) URL`). */
export abstract class InvalidRequestError extends DomainError {
  readonly kind = 'invalid';

  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
  }
}

/** What was asked for does not exist (or the caller may not see it, which it must not be able to tell apart). */
export abstract class NotFoundError extends DomainError {
  readonly kind = 'not-found';
}

/** What was asked contradicts the present state of what it is asked of. */
export abstract class ConflictError extends DomainError {
  readonly kind = 'conflict';
}

/** What was asked for existed and was removed on purpose (a result file past its retention): it will not come back. */
export abstract class GoneError extends DomainError {
  readonly kind = 'gone';
}

/**
 * What was asked would take the caller past a limit that keeps one client from crowding out the others (its jobs
 * waiting to run): the same request may succeed later, after `retryAfterSeconds` or so.
 */
export abstract class LimitReachedError extends DomainError {
  readonly kind = 'limit';

  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}
