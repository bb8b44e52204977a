import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import { basename, join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { OnApplicationShutdown } from '@nestjs/common';
import type { Dispatcher } from 'undici';
import { AddressNotAllowedError, HttpClient, type HostPolicy, type Storage } from '#shared';
import { AddressRefusedError, DownloadError, DownloadTimeoutError, FileTooLargeError, GeopreviewError } from './geopreview.errors.js';

export interface DownloadLimits {
  maxBytes: number;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  totalTimeoutMs: number;
}

export interface PortalCredentials {
  /** `https://data.example.org/api/3/action`: the key goes to this URL's host (and scheme) only. */
  baseUrl: string;
  apiKey: string;
}

export interface Downloaded {
  path: string;
  /** The name the server gave the file (Content-Disposition) or the last segment of the URL, made safe. */
  filename: string;
  bytes: number;
  /** SHA-256 of the bytes, hex: what later steps of the geopreview are cached by. */
  sha256: string;
}

const MAX_REDIRECTS = 5;

/** A file name that cannot leave the folder or surprise a shell: letters, digits, `._-`. */
export function safeFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^\.+/, '')
    .slice(-120);
  return cleaned.length > 0 ? cleaned : 'download';
}

function filenameOf(headers: IncomingHttpHeaders, url: URL): string {
  const disposition = headers['content-disposition'];
  const match = disposition ? /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition) : null;
  const name = match ? decodeURIComponent(match[1]) : decodeURIComponent(url.pathname.split('/').pop() ?? '');
  return safeFilename(name);
}

/** Passes the bytes of a file on, counting and hashing them; fails once they are over `maxBytes`. */
class Meter extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    if (this.bytes > this.maxBytes) return callback(new FileTooLargeError(`the file is over the limit of ${this.maxBytes} bytes`));
    callback(null, chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/** A file written in writes of up to 1 MiB rather than 16 KiB: a large file takes fewer system calls. */
const fileWriter = (path: string) => createWriteStream(path, { highWaterMark: 1 << 20 });

/** Whether the portal's key may go with a request to `url`: the same scheme and host (with port), exactly. */
export function sendsPortalKey(url: URL, portal: PortalCredentials | undefined): boolean {
  if (!portal) return false;
  const base = new URL(portal.baseUrl);
  return url.protocol === base.protocol && url.host === base.host;
}

/**
 * Streams an http(s) URL, or a `storage://` object, to a file in the scratch folder. Requests go through the shared
 * outbound client, so every address is checked against the host policy as it is connected to (the connection goes to
 * the checked address, so DNS cannot change its answer in between). Redirects are followed here, hop by hop, each
 * hop a request of its own through that client (and so checked again), the portal's key sent only to the portal's
 * host. Timeouts: connecting, waiting for bytes, and the whole.
 */
export class DownloadService implements OnApplicationShutdown {
  private readonly http: HttpClient;

  constructor(
    policy: HostPolicy,
    private readonly limits: DownloadLimits,
    private readonly storage: Storage,
    private readonly portal?: PortalCredentials,
  ) {
    this.http = new HttpClient({ policy, connectTimeoutMs: limits.connectTimeoutMs });
  }

  onApplicationShutdown(): Promise<void> {
    return this.http.close();
  }

  /**
   * Copies a `storage://` object (say, the upload a fanned-out geopreview shares with its subtasks) to `folder`,
   * under the same size limit as a download.
   */
  async fromStorage(key: string, folder: string, signal?: AbortSignal): Promise<Downloaded> {
    const { maxBytes } = this.limits;
    const object = await this.storage.stat(key);
    if (!object) throw new DownloadError(`no file "${key}" in storage (expired or removed?)`);
    if (object.size > maxBytes) throw new FileTooLargeError(`the file is ${object.size} bytes, over the limit of ${maxBytes} bytes`);
    const filename = safeFilename(basename(key));
    const path = join(folder, filename);
    const meter = new Meter(maxBytes);
    await pipeline(await this.storage.read(key, { signal }), meter, fileWriter(path), { signal });
    return { path, filename, bytes: meter.bytes, sha256: meter.digest() };
  }

  /** `signal` cancels the download (the job was cancelled): it then rejects with the signal's reason. */
  async download(url: string, folder: string, signal?: AbortSignal): Promise<Downloaded> {
    const timeout = AbortSignal.timeout(this.limits.totalTimeoutMs);
    try {
      return await this.fetch(url, folder, signal ? AbortSignal.any([timeout, signal]) : timeout);
    } catch (error) {
      throw signal?.aborted ? signal.reason : error;
    }
  }

  /** Follows redirects to the file and saves it; `deadline` fires at the wall-clock cap or on cancellation. */
  private async fetch(url: string, folder: string, deadline: AbortSignal): Promise<Downloaded> {
    let current = this.parse(url);
    for (let hop = 0; ; hop++) {
      const response = await this.request(current, deadline);
      const status = response.statusCode;
      const location = response.headers.location;
      if (status >= 300 && status < 400 && typeof location === 'string') {
        await response.body.dump();
        if (hop >= MAX_REDIRECTS) throw new DownloadError(`too many redirects (more than ${MAX_REDIRECTS})`);
        current = this.parse(new URL(location, current).toString());
        continue;
      }
      if (status < 200 || status >= 300) {
        await response.body.dump();
        throw new DownloadError(`the server answered ${status} ${STATUS_CODES[status] ?? ''}`.trim());
      }
      return this.save(response, current, folder, deadline);
    }
  }

  private parse(text: string): URL {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new DownloadError(`not a valid URL: ${text.slice(0, 200)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new DownloadError(`unsupported URL scheme ${url.protocol} (http and https only)`);
    if (url.username || url.password) throw new DownloadError('URLs with credentials are not accepted');
    return url;
  }

  private async request(url: URL, deadline: AbortSignal): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { 'user-agent': 'geojobs-geopreview', accept: '*/*' };
    if (sendsPortalKey(url, this.portal)) headers.authorization = this.portal!.apiKey;
    try {
      return await this.http.get(url, { headers, timeoutMs: this.limits.readTimeoutMs, signal: deadline });
    } catch (error) {
      throw downloadError(error, url, deadline, this.limits);
    }
  }

  private async save(response: Dispatcher.ResponseData, url: URL, folder: string, deadline: AbortSignal): Promise<Downloaded> {
    const { maxBytes } = this.limits;
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      response.body.destroy();
      throw new FileTooLargeError(`the file is ${declared} bytes, over the limit of ${maxBytes} bytes`);
    }
    const filename = filenameOf(response.headers, url);
    const path = join(folder, filename);
    const meter = new Meter(maxBytes);
    try {
      // undici fails the body when the connection closes before the whole file (or its Content-Length) arrived
      await pipeline(response.body, meter, fileWriter(path), { signal: deadline });
    } catch (error) {
      response.body.destroy();
      throw downloadError(error, url, deadline, this.limits);
    }
    return { path, filename, bytes: meter.bytes, sha256: meter.digest() };
  }
}

function downloadError(error: unknown, url: URL, deadline: AbortSignal, limits: DownloadLimits): GeopreviewError {
  if (error instanceof GeopreviewError) return error;
  if (error instanceof AddressNotAllowedError) {
    return new AddressRefusedError(`refusing to download: ${error.message}`);
  }
  if (deadline.aborted) return new DownloadTimeoutError(`the download took longer than ${limits.totalTimeoutMs} ms`);
  const cause = error as NodeJS.ErrnoException;
  if (cause.cause instanceof GeopreviewError) return cause.cause;
  switch (cause.code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new DownloadTimeoutError(`could not connect to ${url.host} within ${limits.connectTimeoutMs} ms`);
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return new DownloadTimeoutError(`no data from ${url.host} for ${limits.readTimeoutMs} ms`);
  }
  return new DownloadError(`the download failed: ${cause.code ?? ''} ${cause.message}`.replace(/\s+/g, ' ').trim(), { cause: error });
}
