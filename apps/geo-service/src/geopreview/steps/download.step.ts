import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { defineStep, storageKeyOf, type Storage } from '#shared';
import { safeFilename, type Downloaded } from '../download.service.js';
import { DownloadError, FileTooLargeError } from '../geopreview.errors.js';
import type { GeopreviewDependencies, GeopreviewInput } from './geopreview.steps.js';

/** The downloaded file: its place in the run's work folder, its size and its digest. */
export interface DownloadedSource {
  file: string;
  bytes: number;
  sha256: string;
}

/**
 * Copies a `storage://` object (say, the upload a fanned-out geopreview shares with its subtasks) to `folder`,
 * hashing it on the way.
 */
async function fromStorage(storage: Storage, key: string, folder: string, maxBytes: number, signal: AbortSignal): Promise<Downloaded> {
  const object = await storage.stat(key);
  if (!object) throw new DownloadError(`no file "${key}" in storage (expired or removed?)`);
  if (object.size > maxBytes) throw new FileTooLargeError(`the file is ${object.size} bytes, over the limit of ${maxBytes} bytes`);
  const filename = safeFilename(basename(key));
  const path = join(folder, filename);
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  await pipeline(await storage.read(key, { signal }), hashing, createWriteStream(path), { signal });
  return { path, filename, bytes: object.size, sha256: hash.digest('hex') };
}

/** download: the file from its http(s) URL or storage URI, with every defence of DownloadService. */
export const downloadStep = (deps: GeopreviewDependencies) =>
  defineStep<GeopreviewInput>()({
    name: 'download',
    version: 1,
    needs: [],
    // Always fetched: a URL may serve other bytes tomorrow. The steps after it are cached by the bytes' digest.
    isNeeded: () => true,
    async process(ctx): Promise<DownloadedSource> {
      const folder = join(ctx.workDir, 'download');
      await mkdir(folder);
      let key: string | undefined;
      try {
        key = storageKeyOf(ctx.input.url);
      } catch (error) {
        throw new DownloadError((error as Error).message);
      }
      const downloaded = key
        ? await fromStorage(deps.storage, key, folder, deps.maxBytes, ctx.signal)
        : await deps.downloads.download(ctx.input.url, folder, ctx.signal);
      return { file: relative(ctx.workDir, downloaded.path), bytes: downloaded.bytes, sha256: downloaded.sha256 };
    },
    describe: (_ctx, output) => `${output.bytes.toLocaleString('en')} bytes, sha256 ${output.sha256.slice(0, 12)}…`,
  });
