import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { assertStorageKey, isStorageKey, StorageNotFoundError, type Storage, type StoredObject, type StorageWriteOptions } from './storage.js';

/** Partial writes live here until complete, then are renamed into place: a reader never sees half an object. */
const PARTIAL = '.partial';

/**
 * Storage in a local folder (`GEOJOBS_STORAGE_DIR`): one machine, or a shared filesystem mounted on every
 * machine. Writes go to a temporary file that is synced and renamed into place.
 */
export class LocalStorage implements Storage {
  readonly kind = 'local';
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async write(key: string, body: Readable, options: StorageWriteOptions = {}): Promise<StoredObject> {
    return this.place(key, async (partial) => {
      // opened before the stream starts, so the partial file exists by the time a failure is cleaned up (a stream
      // opening its file itself may create it after a failed write has been cleaned up)
      const file = await open(partial, 'w');
      await pipeline(body, file.createWriteStream(), { signal: options.signal });
    });
  }

  async upload(key: string, path: string, options: StorageWriteOptions = {}): Promise<StoredObject> {
    return this.place(key, async (partial) => {
      options.signal?.throwIfAborted();
      await copyFile(path, partial);
    });
  }

  async read(key: string, options: { signal?: AbortSignal } = {}): Promise<Readable> {
    const path = this.path(key);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new StorageNotFoundError(key);
    return createReadStream(path, { signal: options.signal });
  }

  async download(key: string, path: string, options: { signal?: AbortSignal } = {}): Promise<StoredObject> {
    const object = await this.stat(key);
    if (!object) throw new StorageNotFoundError(key);
    options.signal?.throwIfAborted();
    await copyFile(this.path(key), path);
    return object;
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    const info = await stat(this.path(key)).catch(() => undefined);
    return info?.isFile() ? { key, size: info.size, modifiedAt: info.mtime } : undefined;
  }

  async *list(prefix = ''): AsyncIterable<StoredObject> {
    // only the folder the prefix is in is walked; a folder no key can be in (`..`, an empty segment) holds nothing
    const within = prefix.slice(0, Math.max(prefix.lastIndexOf('/'), 0));
    if (within !== '' && !isStorageKey(within)) return;
    const folder = within === '' ? this.root : this.path(within);
    const keys = (await this.walk(folder)).map((path) => relative(this.root, path).split(sep).join('/')).filter((key) => key.startsWith(prefix));
    for (const key of keys.sort()) {
      // a file put in the folder by other hands, under a name no key can have, is not an object of this storage
      if (!isStorageKey(key)) continue;
      const object = await this.stat(key);
      if (object) yield object;
    }
  }

  async delete(key: string): Promise<void> {
    await unlink(this.path(key)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  async deletePrefix(prefix: string): Promise<number> {
    if (!prefix.endsWith('/')) throw new RangeError(`a prefix to delete must end with "/", got ${JSON.stringify(prefix)}`);
    const folder = this.path(prefix.slice(0, -1));
    const files = await this.walk(folder);
    await rm(folder, { recursive: true, force: true });
    return files.length;
  }

  async check(): Promise<void> {
    await mkdir(join(this.root, PARTIAL), { recursive: true });
    const probe = join(this.root, PARTIAL, `health-${randomUUID()}`);
    const handle = await open(probe, 'w');
    await handle.close();
    await unlink(probe);
  }

  private path(key: string): string {
    return join(this.root, ...assertStorageKey(key).split('/'));
  }

  private async place(key: string, fill: (partial: string) => Promise<void>): Promise<StoredObject> {
    const target = this.path(key);
    const partial = join(this.root, PARTIAL, randomUUID());
    await mkdir(dirname(partial), { recursive: true });
    try {
      await fill(partial);
      const handle = await open(partial, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await mkdir(dirname(target), { recursive: true });
      await rename(partial, target);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    return (await this.stat(key))!;
  }

  /** Every file below `folder` (none when it does not exist), skipping partial writes. */
  private async walk(folder: string): Promise<string[]> {
    const entries = await readdir(folder, { withFileTypes: true, recursive: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const partials = join(this.root, PARTIAL);
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name))
      .filter((path) => path !== partials && !path.startsWith(partials + sep));
  }
}
