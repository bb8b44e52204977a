import type { Readable } from 'node:stream';

/** One object in storage, as listings and `stat` describe it. */
export interface StoredObject {
  /** Its key: a relative, `/`-separated path such as `geopreview/<job id>/source.zip`. */
  key: string;
  size: number;
  modifiedAt: Date;
}

export interface StorageWriteOptions {
  contentType?: string;
  signal?: AbortSignal;
}

/**
 * Where files live between steps, jobs and services: job results, sources a saga's subtasks share, export
 * bundles. A local folder on one machine (`LocalStorage`), an S3-compatible bucket beyond one (`S3Storage`);
 * services pick one with `GEOJOBS_STORAGE` and never touch the other's paths. Keys are validated by
 * `assertStorageKey`: relative, `/`-separated, no `.` or `..` segments.
 */
export interface Storage {
  readonly kind: 'local' | 's3';
  /** Writes the stream under `key`, replacing what was there; resolves once the object is complete and durable. */
  write(key: string, body: Readable, options?: StorageWriteOptions): Promise<StoredObject>;
  /** Writes a local file under `key`. */
  upload(key: string, path: string, options?: StorageWriteOptions): Promise<StoredObject>;
  /** Reads an object; rejects with StorageNotFoundError when there is none. */
  read(key: string, options?: { signal?: AbortSignal }): Promise<Readable>;
  /** Copies an object to a local file (GDAL and zip readers need one). */
  download(key: string, path: string, options?: { signal?: AbortSignal }): Promise<StoredObject>;
  /** The object's size and date, or undefined when there is none. */
  stat(key: string): Promise<StoredObject | undefined>;
  /** Every object whose key starts with `prefix` (all of them by default), in key order. */
  list(prefix?: string): AsyncIterable<StoredObject>;
  /** Removes one object; no error when there is none. */
  delete(key: string): Promise<void>;
  /** Removes every object under `prefix` (which must end with `/`); returns how many went. */
  deletePrefix(prefix: string): Promise<number>;
  /** Throws when the storage cannot be reached or written (for `/health`); the signal gives up on a slow answer. */
  check(options?: { signal?: AbortSignal }): Promise<void>;
  /** Releases what the backend holds open (S3's connections); the local folder holds nothing. */
  close?(): Promise<void>;
}

export class StorageNotFoundError extends Error {
  override readonly name = 'StorageNotFoundError';

  constructor(readonly key: string) {
    super(`no object "${key}" in storage`);
  }
}

/** The scheme of storage URIs: `storage://<key>`, which jobs accept wherever they take a URL. */
export const STORAGE_URI_PREFIX = 'storage://';

const KEY_PATTERN = /^[A-Za-z0-9._\-=+@]+(\/[A-Za-z0-9._\-=+@]+)*$/;

/** Refuses a key that is absolute, climbs out (`..`), has empty or `.` segments, or characters outside a safe set. */
export const isStorageKey = (key: string): boolean =>
  key.length > 0 && key.length <= 1_024 && KEY_PATTERN.test(key) && !key.split('/').some((part) => part === '.' || part === '..');

export function assertStorageKey(key: string): string {
  if (!isStorageKey(key)) {
    throw new RangeError(`not a valid storage key: ${JSON.stringify(key)} (relative, "/"-separated, letters, digits and ._-=+@ only)`);
  }
  return key;
}

export const storageUri = (key: string): string => `${STORAGE_URI_PREFIX}${assertStorageKey(key)}`;

/** The key of a `storage://` URI; undefined for any other URL. Throws on a storage URI with a bad key. */
export function storageKeyOf(uri: string): string | undefined {
  return uri.startsWith(STORAGE_URI_PREFIX) ? assertStorageKey(uri.slice(STORAGE_URI_PREFIX.length)) : undefined;
}
