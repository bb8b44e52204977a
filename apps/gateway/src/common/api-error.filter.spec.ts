import { ConflictError, InvalidRequestError, LimitReachedError, NotFoundError } from './domain-error.js';
import { toHttp } from './api-error.filter.js';

class Invalid extends InvalidRequestError {
  readonly code = 'TEST.INVALID';
}
class Missing extends NotFoundError {
  readonly code = 'TEST.MISSING';
}
class Clash extends ConflictError {
  readonly code = 'TEST.CLASH';
}
class Full extends LimitReachedError {
  readonly code = 'TEST.FULL';
}

describe('domain errors at the HTTP edge', () => {
  it('answers an invalid request 400 with its problems listed, as the ValidationPipe does', () => {
    const answer = toHttp(new Invalid(['input.url must be an http(s) URL', 'type must be a string']));
    expect(answer.getStatus()).toBe(400);
    expect(answer.getResponse()).toEqual({ statusCode: 400, error: 'Bad Request', message: ['input.url must be an http(s) URL', 'type must be a string'] });
  });

  it('answers not-found 404 and conflict 409 with the message', () => {
    expect(toHttp(new Missing('no job 42')).getResponse()).toEqual({ statusCode: 404, error: 'Not Found', message: 'no job 42' });
    expect(toHttp(new Clash('job 42 has already succeeded')).getResponse()).toEqual({
      statusCode: 409,
      error: 'Conflict',
      message: 'job 42 has already succeeded',
    });
  });

  it('answers a limit reached 429 with the message (the filter adds its Retry-After)', () => {
    const error = new Full('at most 5 unfinished jobs', 30);
    expect(toHttp(error).getResponse()).toEqual({ statusCode: 429, error: 'Too Many Requests', message: 'at most 5 unfinished jobs' });
    expect(error.retryAfterSeconds).toBe(30);
  });

  it('keeps the code and the message on the error itself, for code that catches it without HTTP', () => {
    const error = new Invalid(['a', 'b']);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('Invalid');
    expect(error.code).toBe('TEST.INVALID');
    expect(error.message).toBe('a; b');
  });
});
