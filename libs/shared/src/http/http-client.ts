import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { Agent, buildConnector, interceptors, type Dispatcher } from 'undici';
import { backoffDelay, sleep, type BackoffPolicy } from '../backoff/backoff.js';
import { AddressNotAllowedError, type HostPolicy } from './host-policy.js';
import { isRetryableError, isRetryableStatus, retryAfterMs } from './retry-policy.js';

export interface HttpClientOptions {
  /**
   * Every connection passes this policy, redirect hops included. Null only for a destination the operator configured
   * (the portal's action API, Mixpanel, GA4): an address from a user always goes through a policy.
   */
  policy: HostPolicy | null;
  /** Connecting, TLS handshake included. */
  connectTimeoutMs: number;
  /** Connections kept open to one origin at most; unlimited by default. */
  connections?: number;
  /** How long an idle connection is kept for the next request (undici's default, 4 s, when unset). */
  keepAliveMs?: number;
}

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts: number;
  backoff: BackoffPolicy;
}

/** A try that failed and is followed by another after `delayMs`: an answer worth retrying, or no answer at all. */
export interface FailedTry {
  attempt: number;
  status: number | null;
  error: Error | null;
  delayMs: number;
}

export interface SendOptions {
  headers?: Record<string, string>;
  /** Per try: waiting for the answer's headers, then for each next bytes of its body. */
  timeoutMs: number;
  /** No retry when unset: one try. */
  retry?: RetryOptions;
  /** The caller gives up (the job was cancelled, the service stops): the request and any backoff stop at once. */
  signal?: AbortSignal;
  /** Awaited before the next try: a caller that records every try (webhooks) does it here. */
  onRetry?: (failed: FailedTry) => void | Promise<void>;
}

/** The final answer; the body only as far as `MAX_ANSWER_BYTES`, which is what a log or a refusal reason needs. */
export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** No answer came back, after every try: the cause says why (a timeout, a network error). */
export class HttpRequestError extends Error {
  override readonly name = 'HttpRequestError';

  constructor(
    message: string,
    readonly attempts: number,
    readonly retryable: boolean,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

const MAX_ANSWER_BYTES = 64 * 1024;

/** Raised by undici's retry handler for an answer it hands to the retry decision: the status and the headers. */
interface StatusFailure extends Error {
  statusCode?: number;
  headers?: IncomingHttpHeaders;
}

/**
 * undici's connector with the host policy in front: a host name is resolved by the policy's lookup, which refuses the
 * connection unless every address is allowed and hands the socket the address it checked (the connection is pinned
 * to it); an IP literal, which net.connect never looks up, is checked here.
 */
function guardedConnector(policy: HostPolicy | null, timeoutMs: number): buildConnector.connector {
  const connect = buildConnector(policy ? { timeout: timeoutMs, lookup: policy.lookup } : { timeout: timeoutMs });
  if (!policy) return connect;
  return (options, callback) => {
    const host = options.hostname.replace(/^\[|\]$/g, '');
    const refused = isIP(host) ? policy.refusal(host, host) : null;
    if (refused) return callback(refused, null);
    return connect(options, callback);
  };
}

const readCapped = async (body: Dispatcher.ResponseData['body']): Promise<string> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_ANSWER_BYTES) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, MAX_ANSWER_BYTES);
};

const describe = (error: unknown, timeoutMs: number): string => {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return `no answer within ${timeoutMs} ms`;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'could not connect in time';
  return (error as Error).message || String(code ?? error);
};

/**
 * The one outbound HTTP client of geojobs (undici): every request to an address someone gave us — webhooks, the CKAN
 * result_url, geopreview callbacks and downloads — and to the destinations the operator configured (analytics) goes
 * through one of these.
 *
 * - The host policy is in the connector, so no request, and no hop of a redirect a caller chooses to follow, reaches
 *   an address it refuses; the socket is pinned to the checked address.
 * - Redirects are never followed here: a 3xx is the answer (a caller that follows them, as downloads do, sends each
 *   hop through this client again, and so through the policy).
 * - Retries are undici's retry interceptor with geojobs' one classification (retry-policy.ts) and one backoff
 *   (backoff/backoff.ts): timeouts, network errors, 408, 429, 5xx retried with exponential backoff and jitter,
 *   Retry-After honoured; any other answer is final.
 * - One timeout model: connecting (per client), then per try the wait for the answer's headers and for each next
 *   bytes of its body; the caller's signal bounds the whole.
 * - Connections are kept alive and pooled per origin by undici's Agent; `connections` bounds a pool.
 */
export class HttpClient {
  private readonly agent: Agent;
  private readonly retrying: Dispatcher;

  constructor(options: HttpClientOptions) {
    this.agent = new Agent({
      connect: guardedConnector(options.policy, options.connectTimeoutMs),
      ...(options.connections !== undefined ? { connections: options.connections } : {}),
      ...(options.keepAliveMs !== undefined ? { keepAliveTimeout: options.keepAliveMs } : {}),
    });
    this.retrying = this.agent.compose(interceptors.retry({ throwOnError: false }));
  }

  /**
   * POSTs `body` and resolves with the final answer, whatever its status (after the retries the status allowed);
   * rejects when no answer came: an `AddressNotAllowedError` for an address the policy refuses (never retried), an
   * `HttpRequestError` after the tries, or the signal's reason when the caller gave up.
   */
  post(url: string | URL, body: string | Buffer, options: SendOptions): Promise<HttpAnswer> {
    return this.send('POST', url, body, options);
  }

  /** GETs `url` as `post` sends: retried as the options say, resolving with the final answer (its body capped). */
  getText(url: string | URL, options: SendOptions): Promise<HttpAnswer> {
    return this.send('GET', url, undefined, options);
  }

  private async send(method: 'GET' | 'POST', url: string | URL, body: string | Buffer | undefined, options: SendOptions): Promise<HttpAnswer> {
    const tries = Math.max(1, options.retry?.attempts ?? 1);
    let attempt = 1;
    const retry = options.retry && tries > 1 ? options.retry : undefined;
    try {
      const response = await (retry ? this.retrying : this.agent).request({
        ...this.target(url),
        method,
        headers: options.headers,
        body,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        signal: options.signal,
        ...(retry
          ? {
              retryOptions: {
                throwOnError: false,
                retry: (error: StatusFailure, _context: unknown, decide: (error?: Error | null) => void) => {
                  const status = error.statusCode ?? null;
                  const retryable = status !== null ? isRetryableStatus(status) : isRetryableError(error);
                  if (!retryable || attempt >= tries || options.signal?.aborted) return decide(error);
                  const delayMs = backoffDelay(attempt, retry.backoff, status !== null ? retryAfterMs(error.headers?.['retry-after']) : 0);
                  const failed: FailedTry = { attempt, status, error: status === null ? error : null, delayMs };
                  attempt++;
                  void Promise.resolve()
                    .then(() => options.onRetry?.(failed))
                    .then(() => sleep(delayMs, options.signal))
                    .then(
                      () => decide(options.signal?.aborted ? error : null),
                      (hookError: unknown) => decide(hookError instanceof Error ? hookError : error),
                    );
                },
              },
            }
          : {}),
      });
      return { status: response.statusCode, headers: response.headers, body: await readCapped(response.body) };
    } catch (error) {
      if (error instanceof AddressNotAllowedError || options.signal?.aborted) throw options.signal?.aborted ? options.signal.reason : error;
      const retryable = isRetryableError(error);
      const tried = attempt > 1 ? ` (${attempt} tries)` : '';
      throw new HttpRequestError(`${describe(error, options.timeoutMs)}${tried}`, attempt, retryable, { cause: error });
    }
  }

  /**
   * GETs `url`, one try, and hands back the streaming answer (any status; a 3xx is not followed): for downloads, which
   * stream the body to a file under their own caps. The caller must consume or destroy the body.
   */
  get(url: string | URL, options: Omit<SendOptions, 'retry' | 'onRetry'>): Promise<Dispatcher.ResponseData> {
    return this.agent.request({
      ...this.target(url),
      method: 'GET',
      headers: options.headers,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      signal: options.signal,
    });
  }

  /**
   * PUTs a streamed body, one try (a stream cannot be sent twice), and resolves with the answer whatever its status:
   * for uploads to an address someone gave (a presigned PUT URL). `size` is sent as Content-Length, which object
   * stores demand; without it the body goes chunked. Rejects like `post` when no answer came.
   */
  async put(url: string | URL, body: Readable, options: Omit<SendOptions, 'retry' | 'onRetry'> & { size?: number }): Promise<HttpAnswer> {
    const headers = { ...options.headers, ...(options.size !== undefined ? { 'content-length': String(options.size) } : {}) };
    try {
      const response = await this.agent.request({
        ...this.target(url),
        method: 'PUT',
        headers,
        body,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        signal: options.signal,
      });
      return { status: response.statusCode, headers: response.headers, body: await readCapped(response.body) };
    } catch (error) {
      if (error instanceof AddressNotAllowedError || options.signal?.aborted) throw options.signal?.aborted ? options.signal.reason : error;
      throw new HttpRequestError(describe(error, options.timeoutMs), 1, isRetryableError(error), { cause: error });
    }
  }

  /** Closes idle connections and waits for running requests: for a graceful stop. */
  close(): Promise<void> {
    return this.agent.close();
  }

  private target(url: string | URL): { origin: string; path: string } {
    const parsed = typeof url === 'string' ? new URL(url) : url;
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError(`unsupported URL scheme ${parsed.protocol} (http and https only)`);
    return { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
  }
}
