import { errors } from 'undici';
import { AddressNotAllowedError } from './host-policy.js';
import { isRetryableError, isRetryableStatus, retryAfterMs } from './retry-policy.js';

describe('retry classification', () => {
  it('retries 408, 429 and 5xx; every other status is final', () => {
    expect([408, 429, 500, 502, 503, 504, 599].every(isRetryableStatus)).toBe(true);
    expect([200, 204, 301, 302, 400, 401, 403, 404, 409, 410, 413, 422].some(isRetryableStatus)).toBe(false);
  });

  it('retries timeouts and network errors, never a refused address or a request the caller aborted', () => {
    const network = (code: string) => Object.assign(new Error(code), { code });
    for (const error of [
      network('ECONNREFUSED'),
      network('ECONNRESET'),
      network('ENOTFOUND'),
      network('EAI_AGAIN'),
      new errors.ConnectTimeoutError(),
      new errors.HeadersTimeoutError(),
      new errors.BodyTimeoutError(),
      new errors.SocketError('other side closed'),
    ]) {
      expect([error.message, isRetryableError(error)]).toEqual([error.message, true]);
    }
    expect(isRetryableError(new AddressNotAllowedError('127.0.0.2', '127.0.0.2', 'loopback'))).toBe(false);
    expect(isRetryableError(new errors.RequestAbortedError())).toBe(false);
    expect(isRetryableError(network('ERR_TLS_CERT_ALTNAME_INVALID'))).toBe(false);
    expect(isRetryableError(new Error('no code'))).toBe(false);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('2')).toBe(2_000);
    expect(retryAfterMs(['3', '9'])).toBe(3_000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 7_000)).toBe(3_000);
    expect(retryAfterMs(new Date(1_000).toUTCString(), 7_000)).toBe(0);
    expect(retryAfterMs(undefined)).toBe(0);
    expect(retryAfterMs('soon')).toBe(0);
  });
});
