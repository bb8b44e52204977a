import { errors } from 'undici';
import { AddressNotAllowedError } from './host-policy.js';

/**
 * Which outcomes of an outbound HTTP request are worth another try, for every caller alike: a timeout, a network
 * error, 408, 429 and 5xx may mend; any other status is the receiver's final word, and an address the host policy
 * refuses stays refused.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Network errors that say nothing about the request itself: the next try may well get through. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** Whether a request that failed with `error` (no answer at all) is worth another try. */
export function isRetryableError(error: unknown): boolean {
  if (error instanceof AddressNotAllowedError) return false;
  if (error instanceof errors.RequestAbortedError) return false; // the caller gave up (cancelled, or its deadline)
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT_CODES.has(code);
}

/** Retry-After as seconds or an HTTP date, in milliseconds; 0 when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now: number = Date.now()): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return 0;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? 0 : Math.max(0, date - now);
}
