import { basename, join } from 'node:path';
import { defineOptionalStep, storageUri } from '#shared';
import type { DownloadedSource } from './download.step.js';
import type { GeopreviewDependencies, GeopreviewInput } from './geopreview.steps.js';
import type { SourceLayers } from './open.step.js';

/** Where the subtasks of a fanned-out geopreview find the upload. */
export interface SharedSource {
  /** Storage folder of this job's shared files, removed by the merge step. */
  sharedPrefix: string;
  /** The upload, as the subtasks' `url`. */
  uri: string;
}

/** Where the uploads shared with a fan-out's subtasks are kept, one folder per job. */
export const SHARED_PREFIX_ROOT = 'geopreview/';

/**
 * share: an upload of several layers, with no layer chosen, is imported by one subtask per layer, on any copy of
 * geo-service: the file goes to storage for them to read.
 */
export const shareStep = (deps: GeopreviewDependencies) =>
  defineOptionalStep<GeopreviewInput, { download: DownloadedSource; open: SourceLayers }>()({
    name: 'share',
    version: 1,
    needs: ['download', 'open'],
    // Its output names this job's own storage folder.
    isNeeded: () => true,
    isApplicable: (ctx) => ctx.input.layer === undefined && ctx.outputs.open.layers.length > 1,
    async process(ctx): Promise<SharedSource> {
      const sharedPrefix = `${SHARED_PREFIX_ROOT}${ctx.input.jobId}/`;
      const key = `${sharedPrefix}${basename(ctx.outputs.download.file)}`;
      await deps.storage.upload(key, join(ctx.workDir, ctx.outputs.download.file), { signal: ctx.signal });
      return { sharedPrefix, uri: storageUri(key) };
    },
    describe: (ctx, output) => `${ctx.outputs.open.layers.length} layers, one subtask each, reading ${output.uri}`,
  });
