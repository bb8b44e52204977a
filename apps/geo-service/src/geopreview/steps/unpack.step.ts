import { join, relative } from 'node:path';
import { defineOptionalStep } from '#shared';
import { FormatError } from '../geopreview.errors.js';
import { checkKind } from '../source.service.js';
import type { DownloadedSource } from './download.step.js';
import type { GeopreviewDependencies, GeopreviewInput } from './geopreview.steps.js';

/** The unpacked archive: its folder in the run's work folder and the layer files found in it. */
export interface UnpackedSource {
  root: string;
  files: string[];
}

/** unpack: a zip or kmz expanded with UnpackService's defences; not applicable to a file that is no archive. */
export const unpackStep = (deps: GeopreviewDependencies) =>
  defineOptionalStep<GeopreviewInput, { download: DownloadedSource }>()({
    name: 'unpack',
    version: 1,
    needs: ['download'],
    // Its files live in this run's work folder only: unpacked every run (cheap next to the import).
    isNeeded: () => true,
    // Also where a file that is not what its extension (or declared format) says is refused.
    isApplicable: async (ctx) => (await checkKind(join(ctx.workDir, ctx.outputs.download.file), ctx.input.format)).kind === 'zip',
    async process(ctx): Promise<UnpackedSource> {
      const root = join(ctx.workDir, 'unpacked');
      await deps.unpack.unzip(join(ctx.workDir, ctx.outputs.download.file), root);
      const files = await deps.unpack.findLayerFiles(root);
      if (files.length === 0) throw new FormatError('the archive holds no layer file (.shp, .geojson, .kml, .gpkg, .gdb, .csv)');
      return { root: relative(ctx.workDir, root), files: files.map((file) => relative(ctx.workDir, file)) };
    },
    describe: (_ctx, output) => `${output.files.length} layer file${output.files.length === 1 ? '' : 's'}`,
  });
