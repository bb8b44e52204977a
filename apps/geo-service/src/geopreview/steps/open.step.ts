import { dirname, join } from 'node:path';
import { defineStep } from '#shared';
import { FormatError } from '../geopreview.errors.js';
import type { DownloadedSource } from './download.step.js';
import { selects, type GeopreviewDependencies, type GeopreviewInput, type OpenedLayers } from './geopreview.steps.js';
import type { UnpackedSource } from './unpack.step.js';

/** The layers of the upload, by key (unique within it) and name. */
export interface SourceLayers {
  layers: { key: string; name: string; kind: string }[];
}

/** open: every layer file with GDAL (the one driver its format allows); the datasets stay open for the import. */
export const openStep = (deps: GeopreviewDependencies, opened: OpenedLayers) =>
  defineStep<GeopreviewInput, { download: DownloadedSource; unpack: UnpackedSource | undefined }>()({
    name: 'open',
    version: 1,
    needs: ['download', 'unpack'],
    // Opens the files for this run's import: always runs.
    isNeeded: () => true,
    async process(ctx): Promise<SourceLayers> {
      const { download, unpack } = ctx.outputs;
      const files = (unpack ? unpack.files : [download.file]).map((file) => join(ctx.workDir, file));
      const root = join(ctx.workDir, unpack ? unpack.root : dirname(download.file));
      // registered as soon as opened, so that a run cancelled meanwhile still closes them
      const layers = await opened.use(deps.sources.openAll(files, root, unpack ? undefined : ctx.input.format).then((found) => (opened.add(found), found)));
      if (layers.length === 0) throw new FormatError('the file holds no layer');
      const wanted = ctx.input.layer;
      if (wanted !== undefined && !layers.some((layer) => selects(layer, wanted))) {
        throw new FormatError(`no layer "${wanted}" in the file; it holds: ${layers.map((layer) => layer.key).join(', ')}`);
      }
      return { layers: layers.map(({ key, name, kind }) => ({ key, name, kind })) };
    },
    describe: (_ctx, output) => (output.layers.length === 1 ? `1 layer: ${output.layers[0].key}` : `${output.layers.length} layers`),
  });
