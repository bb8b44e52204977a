import { createWriteStream } from 'node:fs';
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import { AddressNotAllowedError, backoffDelay, isRetryableError, isRetryableStatus, sleep, type BackoffPolicy, type HttpClient } from '#shared';
import { safeName } from './package-show.js';

export interface DownloadLimits {
  maxBytes: number;
  /** Per try: waiting for the answer, then for each next bytes of the body. */
  readTimeoutMs: number;
  /** The whole download, redirects and retries included. */
  totalTimeoutMs: number;
}

/** Where the portal's API key may go: its action API's scheme and host (with port), exactly. */
export interface PortalKey {
  baseUrl: string;
  apiKey: string;
}

export interface DownloadedFile {
  path: string;
  /** The server's name for the file (Content-Disposition), else the URL's last segment, made safe. */
  filename: string;
  bytes: number;
}

/** A resource could not be downloaded; the message says why, for the README and the job's error. */
export class ResourceDownloadError extends Error {
  override readonly name: string;

  constructor(className: 'DownloadFailed' | 'AddressRefused' | 'FileTooLarge' | 'DownloadTimeout', message: string) {
    super(message);
    this.name = className;
  }
}

const MAX_REDIRECTS = 5;
/** A file server's 5xx or a dropped connection is tried again this many times in all, the first included. */
const TRIES = 3;
const BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 5_000 };

/** Whether the portal's key may go with a request to `url`: the same scheme and host (with port), exactly. */
export function sendsPortalKey(url: URL, portal: PortalKey | undefined): boolean {
  if (!portal) return false;
  const base = new URL(portal.baseUrl);
  return url.protocol === base.protocol && url.host === base.host;
}

export function filenameOf(headers: IncomingHttpHeaders, url: URL): string {
  const disposition = headers['content-disposition'];
  const match = typeof disposition === 'string' ? /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition) : null;
  const raw = match ? match[1] : (url.pathname.split('/').pop() ?? '');
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    name = raw; // a stray % in the name: kept as it is, then made safe
  }
  return safeName(name, 'resource');
}

/** Passes bytes on, counting them; fails once they are over `maxBytes` (a server may lie in Content-Length or send none). */
class ByteCap extends Transform {
  bytes = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) return callback(new ResourceDownloadError('FileTooLarge', `the file is over the limit of ${this.maxBytes} bytes`));
    callback(null, chunk);
  }
}

/**
 * Downloads a dataset's resource to a local folder through the shared outbound client (so through the host policy,
 * each redirect hop checked again), with a size cap on Content-Length and on the bytes received, a per-read timeout
 * and a wall-clock cap; the portal's API key goes only to the portal's own host (a private resource). A 5xx or a
 * dropped connection is tried again with the one backoff; any other status is the server's final word.
 */
export class ResourceDownloader {
  constructor(
    private readonly http: HttpClient,
    private readonly limits: DownloadLimits,
    private readonly portal?: PortalKey,
  ) {}

  /** Rejects with a ResourceDownloadError, or with the signal's reason once `signal` fires. */
  async download(url: string, folder: string, signal: AbortSignal): Promise<DownloadedFile> {
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(this.limits.totalTimeoutMs)]);
    try {
      return await this.fetch(parse(url), folder, deadline);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      // before the error's own class: the wall-clock cap cuts the body stream, which save() reports as a failed download
      if (deadline.aborted) throw new ResourceDownloadError('DownloadTimeout', `the download took longer than ${this.limits.totalTimeoutMs / 1_000} s`);
      throw error;
    }
  }

  private async fetch(first: URL, folder: string, deadline: AbortSignal): Promise<DownloadedFile> {
    let url = first;
    for (let hop = 0; ; hop++) {
      const response = await this.request(url, deadline);
      const status = response.statusCode;
      const location = response.headers.location;
      if (status >= 300 && status < 400 && typeof location === 'string') {
        await response.body.dump();
        if (hop >= MAX_REDIRECTS) throw new ResourceDownloadError('DownloadFailed', `too many redirects (more than ${MAX_REDIRECTS})`);
        url = parse(new URL(location, url).toString());
        continue;
      }
      if (status < 200 || status >= 300) {
        await response.body.dump();
        throw new ResourceDownloadError('DownloadFailed', `${url.host} answered ${status} ${STATUS_CODES[status] ?? ''}`.trim());
      }
      return this.save(response, url, folder, deadline);
    }
  }

  /** One GET, tried again on a 5xx or no answer. */
  private async request(url: URL, deadline: AbortSignal): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { 'user-agent': 'geojobs-export', accept: '*/*' };
    if (sendsPortalKey(url, this.portal)) headers.authorization = this.portal!.apiKey;
    for (let attempt = 1; ; attempt++) {
      let response: Dispatcher.ResponseData;
      try {
        response = await this.http.get(url, { headers, timeoutMs: this.limits.readTimeoutMs, signal: deadline });
      } catch (error) {
        if (error instanceof AddressNotAllowedError) {
          throw new ResourceDownloadError('AddressRefused', `refusing to download: ${error.message}`);
        }
        if (deadline.aborted || attempt >= TRIES || !isRetryableError(error)) throw failure(error, url, this.limits);
        await sleep(backoffDelay(attempt, BACKOFF), deadline);
        continue;
      }
      if (!isRetryableStatus(response.statusCode) || attempt >= TRIES) return response;
      await response.body.dump();
      await sleep(backoffDelay(attempt, BACKOFF), deadline);
    }
  }

  private async save(response: Dispatcher.ResponseData, url: URL, folder: string, deadline: AbortSignal): Promise<DownloadedFile> {
    const { maxBytes } = this.limits;
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      response.body.destroy();
      throw new ResourceDownloadError('FileTooLarge', `the file is ${declared} bytes, over the limit of ${maxBytes} bytes`);
    }
    const filename = filenameOf(response.headers, url);
    const path = join(folder, filename);
    const cap = new ByteCap(maxBytes);
    try {
      await pipeline(response.body, cap, createWriteStream(path, { highWaterMark: 1 << 20 }), { signal: deadline });
    } catch (error) {
      response.body.destroy();
      throw error instanceof ResourceDownloadError ? error : failure(error, url, this.limits);
    }
    return { path, filename, bytes: cap.bytes };
  }
}

function parse(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ResourceDownloadError('DownloadFailed', text ? `not a valid URL: ${text.slice(0, 200)}` : 'the resource has no URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ResourceDownloadError('DownloadFailed', `unsupported URL scheme ${url.protocol} (http and https only)`);
  if (url.username || url.password) throw new ResourceDownloadError('DownloadFailed', 'URLs with credentials are not accepted');
  return url;
}

function failure(error: unknown, url: URL, limits: DownloadLimits): ResourceDownloadError {
  const cause = error as NodeJS.ErrnoException;
  if (cause.cause instanceof ResourceDownloadError) return cause.cause;
  switch (cause.code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new ResourceDownloadError('DownloadTimeout', `could not connect to ${url.host} in time`);
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return new ResourceDownloadError('DownloadTimeout', `no data from ${url.host} for ${limits.readTimeoutMs / 1_000} s`);
  }
  return new ResourceDownloadError('DownloadFailed', `the download from ${url.host} failed: ${cause.code ?? ''} ${cause.message}`.replace(/\s+/g, ' ').trim());
}
