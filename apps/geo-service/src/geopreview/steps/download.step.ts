import { mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { defineStep, storageKeyOf } from '#shared';
import { DownloadError } from '../geopreview.errors.js';
import type { GeopreviewDependencies, GeopreviewInput } from './geopreview.steps.js';

/** The downloaded file: its place in the run's work folder, its size and its digest. */
export interface DownloadedSource {
  file: string;
  bytes: number;
  sha256: string;
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
      const downloaded = key ? await deps.downloads.fromStorage(key, folder, ctx.signal) : await deps.downloads.download(ctx.input.url, folder, ctx.signal);
      return { file: relative(ctx.workDir, downloaded.path), bytes: downloaded.bytes, sha256: downloaded.sha256 };
    },
    describe: (_ctx, output) => `${output.bytes.toLocaleString('en')} bytes, sha256 ${output.sha256.slice(0, 12)}…`,
  });
