import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Agent as HttpAgent, STATUS_CODES } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { isIP } from 'node:net';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { OnApplicationShutdown } from '@nestjs/common';
import type { Dispatcher } from 'undici';
import { AddressNotAllowedError, HttpClient, type HostPolicy } from '#shared';
import { besideInput, formatRemoteUri, InvalidRemoteUriError, parseRemoteUri, type BucketScheme, type RemoteUri } from './remote-uri.js';

/** An S3-compatible endpoint and the key that signs requests to it. */
export interface BucketEndpoint {
  /** AWS's own when unset. */
  endpoint?: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface RemoteFilesOptions {
  /** Every connection passes it: http(s) hosts, and the S3 and GCS endpoints. */
  policy: HostPolicy;
  /** `s3://` URIs; refused when absent. */
  s3?: BucketEndpoint;
  /** `gs://` URIs, through GCS's S3-compatible XML API and an HMAC key; refused when absent. */
  gcs?: BucketEndpoint;
  /** geojobs' own storage bucket, when storage is S3: never reachable through a user's `s3://` URI. */
  storageBucket?: string;
  connectTimeoutMs?: number;
  /** http(s): waiting for an answer, then for each next bytes of it. */
  readTimeoutMs?: number;
  /** Wall-clock cap of one download, redirects included; none when absent (the caller's signal then bounds it). */
  downloadTimeoutMs?: number;
  /** Bytes per multipart part of an upload to a bucket (at least 5 MiB); at most two are held in memory at once. */
  partSize?: number;
}

export interface RemoteObject {
  uri: string;
  size: number;
  modifiedAt?: Date;
}

/** Why a remote file could not be read or written, in words its owner can act on; retrying would not help. */
export class RemoteFileError extends Error {
  override readonly name = 'RemoteFileError';

  constructor(
    readonly reason: 'invalid-uri' | 'not-configured' | 'address-refused' | 'not-found' | 'access-denied' | 'too-large' | 'refused' | 'timeout',
    message: string,
    options?: { cause: unknown },
  ) {
    super(message, options);
  }
}

const MiB = 1024 * 1024;
const MAX_REDIRECTS = 5;
/** `BACKUP.zip`, then `BACKUP-export1.zip` … as SMS-Rio tried: a bucket with more taken names than this is a mistake. */
const MAX_BESIDE_ATTEMPTS = 100;

/** Passes bytes on, counting them; fails once they are over `maxBytes`. */
class SizeCap extends Transform {
  bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly uri: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) return callback(tooLarge(this.uri, this.maxBytes));
    callback(null, chunk);
  }
}

const tooLarge = (uri: string, maxBytes: number, size?: number) =>
  new RemoteFileError('too-large', `${uri} is ${size !== undefined ? `${size} bytes, ` : ''}over the limit of ${maxBytes} bytes`);

/**
 * Reads and writes the files `export.convert` is given by URI: `http(s)://` through geojobs' one outbound HttpClient,
 * `s3://bucket/key` and `gs://bucket/key` through the AWS SDK (GCS by its S3-compatible XML API, signed with an HMAC
 * key). The host policy guards every connection, the bucket endpoints' included: a private or loopback endpoint is
 * refused unless GEOJOBS_ALLOWED_HOSTS lists it.
 *
 * Downloads stream to a file under a size cap (on the declared length and on the bytes received) and leave no file
 * when they fail; uploads stream as multipart uploads, and one that fails or is cancelled leaves neither an object
 * nor an unfinished upload.
 */
export class RemoteFiles implements OnApplicationShutdown {
  private readonly http: HttpClient;
  private readonly clients = new Map<BucketScheme, S3Client>();
  private readonly readTimeoutMs: number;
  private readonly partSize: number;

  constructor(private readonly options: RemoteFilesOptions) {
    this.http = new HttpClient({ policy: options.policy, connectTimeoutMs: options.connectTimeoutMs ?? 10_000 });
    this.readTimeoutMs = options.readTimeoutMs ?? 60_000;
    this.partSize = options.partSize ?? 8 * MiB;
  }

  async onApplicationShutdown(): Promise<void> {
    for (const client of this.clients.values()) client.destroy();
    await this.http.close();
  }

  /** The default output of an input: beside it (`…/BACKUP.zip`) when it is in a bucket, else undefined. */
  besideInput(inputUri: string): string | undefined {
    return besideInput(inputUri);
  }

  /**
   * `besideInput`, or, when an object of that name exists, the first free of `…-export1.zip`, `…-export2.zip`: an
   * export never overwrites what is in the bucket (SMS-Rio's exporter did the same).
   */
  async vacantBeside(inputUri: string, signal?: AbortSignal): Promise<string | undefined> {
    if (!besideInput(inputUri)) return undefined;
    for (let attempt = 0; attempt < MAX_BESIDE_ATTEMPTS; attempt++) {
      const candidate = besideInput(inputUri, attempt)!;
      if (!(await this.stat(candidate, signal))) return candidate;
    }
    throw new RemoteFileError('refused', `no free name beside ${inputUri}: ${besideInput(inputUri, 0)} and ${MAX_BESIDE_ATTEMPTS - 1} numbered ones exist`);
  }

  /** Streams `uri` to the file `path`; rejects with the signal's reason when cancelled, and leaves no file on failure. */
  async download(uri: string, path: string, options: { signal?: AbortSignal; maxBytes: number }): Promise<RemoteObject> {
    const remote = this.parse(uri);
    const { downloadTimeoutMs } = this.options;
    const timeout = downloadTimeoutMs === undefined ? undefined : AbortSignal.timeout(downloadTimeoutMs);
    const signal = timeout && options.signal ? AbortSignal.any([options.signal, timeout]) : (timeout ?? options.signal);
    try {
      return remote.kind === 'http'
        ? await this.downloadHttp(remote.url, path, options.maxBytes, signal)
        : await this.downloadObject(remote, path, options.maxBytes, signal);
    } catch (error) {
      await rm(path, { force: true });
      if (options.signal?.aborted) throw options.signal.reason;
      if (timeout?.aborted) throw new RemoteFileError('timeout', `the download of ${uri} took longer than ${downloadTimeoutMs} ms`);
      throw this.failure(error, uri);
    }
  }

  /**
   * Streams `body` to `uri`. To a bucket: a multipart upload (parts of `partSize`); to http(s): one PUT (a presigned
   * URL), with `size` as Content-Length when given. A cancelled or failed upload leaves nothing behind.
   */
  async upload(uri: string, body: Readable, options: { signal?: AbortSignal; size?: number; contentType?: string } = {}): Promise<RemoteObject> {
    const remote = this.parse(uri);
    const { signal } = options;
    // Aborting goes through the body (as S3Storage does): a destroyed body fails the upload, which aborts the multipart
    // upload before the promise rejects, so nothing is left once the caller hears of it.
    const onAbort = () => body.destroy(signal?.reason instanceof Error ? signal.reason : new DOMException('The upload was aborted', 'AbortError'));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return remote.kind === 'http' ? await this.uploadHttp(remote.url, body, options) : await this.uploadObject(remote, body, options.contentType);
    } catch (error) {
      body.destroy();
      throw signal?.aborted ? signal.reason : this.failure(error, uri);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The object's size and date, or undefined when there is none; bucket URIs only. */
  async stat(uri: string, signal?: AbortSignal): Promise<RemoteObject | undefined> {
    const remote = this.bucketUri(uri, 'stat');
    try {
      const head = await this.client(remote).send(new HeadObjectCommand({ Bucket: remote.bucket, Key: remote.key }), { abortSignal: signal });
      return { uri, size: head.ContentLength ?? 0, modifiedAt: head.LastModified };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw signal?.aborted ? signal.reason : this.failure(error, uri);
    }
  }

  /** Removes the object (nothing when there is none); bucket URIs only. */
  async delete(uri: string, signal?: AbortSignal): Promise<void> {
    const remote = this.bucketUri(uri, 'delete');
    try {
      await this.client(remote).send(new DeleteObjectCommand({ Bucket: remote.bucket, Key: remote.key }), { abortSignal: signal });
    } catch (error) {
      throw signal?.aborted ? signal.reason : this.failure(error, uri);
    }
  }

  private parse(uri: string): RemoteUri {
    let remote: RemoteUri;
    try {
      remote = parseRemoteUri(uri);
    } catch (error) {
      throw new RemoteFileError('invalid-uri', (error as InvalidRemoteUriError).message);
    }
    if (remote.kind === 'bucket') {
      if (remote.scheme === 's3' && remote.bucket === this.options.storageBucket) {
        throw new RemoteFileError('refused', `s3://${remote.bucket} is geojobs' own storage bucket and cannot be named in a URI`);
      }
      if (!this.options[remote.scheme === 's3' ? 's3' : 'gcs']) {
        const variables =
          remote.scheme === 's3'
            ? 'GEOJOBS_REMOTE_S3_ACCESS_KEY_ID and GEOJOBS_REMOTE_S3_SECRET_ACCESS_KEY'
            : 'GEOJOBS_GCS_HMAC_ACCESS_ID and GEOJOBS_GCS_HMAC_SECRET';
        throw new RemoteFileError('not-configured', `${remote.scheme}:// URIs are not enabled on this geojobs: ${variables} are not set`);
      }
    }
    return remote;
  }

  private bucketUri(uri: string, operation: string): Extract<RemoteUri, { kind: 'bucket' }> {
    const remote = this.parse(uri);
    if (remote.kind !== 'bucket') throw new RemoteFileError('invalid-uri', `${operation} takes s3:// and gs:// URIs only, not ${uri}`);
    return remote;
  }

  /**
   * One client per scheme. Its sockets resolve names through the host policy's lookup (which refuses a connection to
   * an address it does not allow, and pins the one it checked); an IP-literal endpoint, which is never looked up, is
   * checked once here.
   */
  private client(remote: Extract<RemoteUri, { kind: 'bucket' }>): S3Client {
    const existing = this.clients.get(remote.scheme);
    if (existing) return existing;
    const settings = remote.scheme === 's3' ? this.options.s3! : this.options.gcs!;
    if (settings.endpoint) {
      const host = new URL(settings.endpoint).hostname.replace(/^\[|\]$/g, '');
      const refused = isIP(host) ? this.options.policy.refusal(host, host) : null;
      if (refused) throw refused;
    }
    const lookup = this.options.policy.lookup;
    const client = new S3Client({
      region: settings.region,
      endpoint: settings.endpoint,
      // an S3-compatible endpoint (GCS's XML API, MinIO) is addressed path-style; AWS's own virtual-host style
      forcePathStyle: settings.endpoint !== undefined,
      credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
      // checksums only where S3 demands them: GCS's XML API and many S3-compatible servers refuse aws-chunked bodies
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: this.options.connectTimeoutMs ?? 10_000,
        // a stalled endpoint fails the request (and the SDK retries it) instead of holding the job until its deadline
        socketTimeout: this.readTimeoutMs,
        httpAgent: new HttpAgent({ keepAlive: true, lookup }),
        httpsAgent: new HttpsAgent({ keepAlive: true, lookup }),
      },
    });
    this.clients.set(remote.scheme, client);
    return client;
  }

  private async downloadObject(remote: Extract<RemoteUri, { kind: 'bucket' }>, path: string, maxBytes: number, signal?: AbortSignal): Promise<RemoteObject> {
    const uri = formatRemoteUri(remote);
    const response = await this.client(remote).send(new GetObjectCommand({ Bucket: remote.bucket, Key: remote.key }), { abortSignal: signal });
    const body = response.Body;
    if (!(body instanceof Readable)) throw new Error(`reading ${uri} gave no Node.js stream`);
    if (response.ContentLength !== undefined && response.ContentLength > maxBytes) {
      body.destroy();
      throw tooLarge(uri, maxBytes, response.ContentLength);
    }
    const cap = new SizeCap(maxBytes, uri);
    await pipeline(body, cap, createWriteStream(path, { highWaterMark: MiB }), { signal });
    return { uri, size: cap.bytes, modifiedAt: response.LastModified };
  }

  private async uploadObject(remote: Extract<RemoteUri, { kind: 'bucket' }>, body: Readable, contentType = 'application/zip'): Promise<RemoteObject> {
    const uri = formatRemoteUri(remote);
    const upload = new Upload({
      client: this.client(remote),
      params: { Bucket: remote.bucket, Key: remote.key, Body: body, ContentType: contentType },
      partSize: this.partSize,
      queueSize: 2,
      leavePartsOnError: false,
    });
    await upload.done();
    const stored = await this.stat(uri);
    if (!stored) throw new Error(`the upload to ${uri} completed but the object is not there`);
    return stored;
  }

  /** Follows redirects hop by hop, each hop a request of its own through the HttpClient (so checked by the policy). */
  private async downloadHttp(url: URL, path: string, maxBytes: number, signal?: AbortSignal): Promise<RemoteObject> {
    let current = url;
    for (let hop = 0; ; hop++) {
      const response: Dispatcher.ResponseData = await this.http.get(current, {
        headers: { 'user-agent': 'geojobs-export', accept: '*/*' },
        timeoutMs: this.readTimeoutMs,
        signal,
      });
      const { statusCode: status, headers } = response;
      if (status >= 300 && status < 400 && typeof headers.location === 'string') {
        await response.body.dump();
        if (hop >= MAX_REDIRECTS) throw new RemoteFileError('refused', `${url.toString()} redirects more than ${MAX_REDIRECTS} times`);
        const next = parseRemoteUri(new URL(headers.location, current).toString());
        if (next.kind !== 'http') throw new RemoteFileError('refused', `${url.toString()} redirects to ${headers.location}, which is not http(s)`);
        current = next.url;
        continue;
      }
      if (status < 200 || status >= 300) {
        await response.body.dump();
        throw answerError(status, url.toString());
      }
      const declared = Number(headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        response.body.destroy();
        throw tooLarge(url.toString(), maxBytes, declared);
      }
      const cap = new SizeCap(maxBytes, url.toString());
      // undici fails the body when the connection closes before the whole file (or its Content-Length) arrived
      await pipeline(response.body, cap, createWriteStream(path, { highWaterMark: MiB }), { signal });
      return { uri: url.toString(), size: cap.bytes };
    }
  }

  private async uploadHttp(url: URL, body: Readable, options: { signal?: AbortSignal; size?: number; contentType?: string }): Promise<RemoteObject> {
    const meter = new SizeCap(Number.MAX_SAFE_INTEGER, url.toString());
    body.once('error', (error) => meter.destroy(error));
    const answer = await this.http.put(url, body.pipe(meter), {
      headers: { 'content-type': options.contentType ?? 'application/zip', 'user-agent': 'geojobs-export' },
      size: options.size,
      timeoutMs: this.readTimeoutMs,
      signal: options.signal,
    });
    if (answer.status < 200 || answer.status >= 300) throw answerError(answer.status, url.toString());
    return { uri: url.toString(), size: meter.bytes };
  }

  /** A readable RemoteFileError for what the owner of the URI can act on; anything else (5xx, network) as it is. */
  private failure(error: unknown, uri: string): unknown {
    if (error instanceof RemoteFileError) return error;
    // a server that answers nothing, or stops sending, is the input's fault: said in words, and not tried again for
    // the broker's retries (undici's own message is "Body Timeout Error")
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      return new RemoteFileError('timeout', `no data from ${uri} for ${this.readTimeoutMs} ms`, { cause: error });
    }
    const refused = error instanceof AddressNotAllowedError ? error : (error as { cause?: unknown } | null)?.cause;
    if (refused instanceof AddressNotAllowedError) {
      return new RemoteFileError('address-refused', `refusing to reach ${uri}: ${refused.message}`, { cause: error });
    }
    if (error instanceof S3ServiceException) {
      if (isNotFound(error) || error.name === 'NoSuchBucket')
        return new RemoteFileError('not-found', `${uri} does not exist (${error.name})`, { cause: error });
      if (error.$metadata.httpStatusCode === 403) {
        return new RemoteFileError('access-denied', `access to ${uri} was denied (${error.name}): check the key's permissions on the bucket`, { cause: error });
      }
      const status = error.$metadata.httpStatusCode ?? 0;
      if (status >= 400 && status < 500)
        return new RemoteFileError('refused', `${uri}: the server answered ${status} ${error.name}: ${error.message}`, { cause: error });
    }
    return error;
  }
}

/** A missing object: GetObject says NoSuchKey; HEAD requests carry no body, so only their 404 says NotFound. */
const isNotFound = (error: unknown): boolean => error instanceof S3ServiceException && (error.name === 'NoSuchKey' || error.name === 'NotFound');

function answerError(status: number, uri: string): Error {
  const text = `${uri}: the server answered ${status} ${STATUS_CODES[status] ?? ''}`.trim();
  if (status === 404 || status === 410) return new RemoteFileError('not-found', text);
  if (status === 401 || status === 403) return new RemoteFileError('access-denied', text);
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return new RemoteFileError('refused', text);
  // 408, 429, 5xx: the server may answer otherwise later; the worker's retries decide
  return new Error(text);
}
