import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { addAbortSignal, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { assertStorageKey, StorageNotFoundError, type Storage, type StoredObject, type StorageWriteOptions } from './storage.js';

export interface S3StorageOptions {
  bucket: string;
  /** An S3-compatible endpoint (MinIO, Ceph, …); AWS's own when unset. */
  endpoint?: string;
  region: string;
  /** Both or neither; neither means the SDK's default chain (environment, instance role). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** `endpoint/bucket/key` instead of `bucket.endpoint/key`, which most S3-compatible servers need. */
  forcePathStyle: boolean;
  /**
   * Bytes per multipart part (at least 5 MiB, S3's minimum). A write holds at most `partSize * queueSize`
   * bytes in memory, whatever the size of the object.
   */
  partSize?: number;
  /** Parts uploaded at the same time. */
  queueSize?: number;
}

/** S3's limit on the keys of one ListObjectsV2 page and of one DeleteObjects request. */
const MAX_KEYS = 1_000;
const MiB = 1024 * 1024;

/** A missing object: GetObject says NoSuchKey; HEAD requests carry no body, so only their 404 says NotFound. */
const isNotFound = (error: unknown): boolean => error instanceof S3ServiceException && (error.name === 'NoSuchKey' || error.name === 'NotFound');

/**
 * Storage in an S3-compatible bucket, for services spread over several machines. Writes are streamed as
 * multipart uploads (a bounded number of parts in memory at a time), so an object is visible only once
 * complete, and a write that fails or is aborted leaves neither an object nor an unfinished upload behind.
 */
export class S3Storage implements Storage {
  readonly kind = 's3';
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(options: S3StorageOptions) {
    this.bucket = options.bucket;
    this.partSize = options.partSize ?? 8 * MiB;
    this.queueSize = options.queueSize ?? 2;
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      credentials: options.accessKeyId && options.secretAccessKey ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } : undefined,
      // Checksums only where S3 demands them (DeleteObjects): by default the SDK sends streamed bodies as
      // aws-chunked with trailing checksums, which many S3-compatible servers refuse.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // no request or socket timeout: a download paused by a slow client must not be cut off
      requestHandler: { connectionTimeout: 5_000 },
    });
  }

  async write(key: string, body: Readable, options: StorageWriteOptions = {}): Promise<StoredObject> {
    assertStorageKey(key);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: options.contentType },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    // Aborting goes through the body rather than upload.abort(): that one rejects at once while parts are still
    // in flight and the multipart upload is cancelled later, if at all. A destroyed body fails the upload,
    // which cancels the multipart upload before done() rejects, so nothing is left when the caller hears of it.
    const signal = options.signal;
    const onAbort = () => body.destroy(signal?.reason instanceof Error ? signal.reason : new DOMException('The write was aborted', 'AbortError'));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await upload.done();
    } catch (error) {
      body.destroy();
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    const stored = await this.stat(key);
    if (!stored) throw new Error(`the upload of "${key}" completed but the object is not there`);
    return stored;
  }

  async upload(key: string, path: string, options: StorageWriteOptions = {}): Promise<StoredObject> {
    assertStorageKey(key);
    options.signal?.throwIfAborted();
    return this.write(key, createReadStream(path), options);
  }

  async read(key: string, options: { signal?: AbortSignal } = {}): Promise<Readable> {
    return (await this.get(key, options.signal)).body;
  }

  async download(key: string, path: string, options: { signal?: AbortSignal } = {}): Promise<StoredObject> {
    const { body, object } = await this.get(key, options.signal);
    try {
      await pipeline(body, createWriteStream(path), { signal: options.signal });
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    }
    return object;
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: assertStorageKey(key) }));
      return { key, size: head.ContentLength ?? 0, modifiedAt: head.LastModified ?? new Date(0) };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async *list(prefix = ''): AsyncIterable<StoredObject> {
    for await (const page of this.pages(prefix)) yield* page;
  }

  async delete(key: string): Promise<void> {
    // S3 answers 204 for a key that is not there, which is what the contract asks
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: assertStorageKey(key) }));
  }

  async deletePrefix(prefix: string): Promise<number> {
    if (!prefix.endsWith('/')) throw new RangeError(`a prefix to delete must end with "/", got ${JSON.stringify(prefix)}`);
    assertStorageKey(prefix.slice(0, -1));
    let deleted = 0;
    // A listing page holds at most 1,000 keys, exactly what one DeleteObjects takes; the continuation token
    // names the last key listed, so deleting what was listed does not disturb the listing.
    for await (const page of this.pages(prefix)) {
      if (page.length === 0) continue; // DeleteObjects refuses an empty list
      const result = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: page.map((object) => ({ Key: object.key })), Quiet: true },
        }),
      );
      const errors = result.Errors ?? [];
      if (errors.length > 0) {
        const first = errors[0];
        throw new Error(`could not delete ${errors.length} object(s) under "${prefix}", e.g. "${first.Key}": ${first.Code} ${first.Message ?? ''}`.trim());
      }
      deleted += page.length;
    }
    return deleted;
  }

  /** HeadBucket: the bucket exists and these credentials may use it; nothing written, so polling costs nothing. */
  async check(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), { abortSignal: options.signal });
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private async get(key: string, signal: AbortSignal | undefined): Promise<{ body: Readable; object: StoredObject }> {
    assertStorageKey(key);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
      if (!(response.Body instanceof Readable)) throw new Error(`reading "${key}" gave no Node.js stream`);
      // the SDK's signal covers the request; once the body flows, aborting must end the stream too
      const body = signal ? addAbortSignal(signal, response.Body) : response.Body;
      return { body, object: { key, size: response.ContentLength ?? 0, modifiedAt: response.LastModified ?? new Date(0) } };
    } catch (error) {
      if (isNotFound(error)) throw new StorageNotFoundError(key);
      throw error;
    }
  }

  /** ListObjectsV2, page after page (at most MAX_KEYS each), as StoredObjects. */
  private async *pages(prefix: string): AsyncGenerator<StoredObject[]> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix || undefined, ContinuationToken: token, MaxKeys: MAX_KEYS }),
      );
      yield (page.Contents ?? []).map((object) => ({
        key: object.Key ?? '',
        size: object.Size ?? 0,
        modifiedAt: object.LastModified ?? new Date(0),
      }));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}
