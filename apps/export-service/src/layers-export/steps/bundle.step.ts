import pLimit from 'p-limit';
import { canonicalJson, defineStep, sha256, type ExportFormat } from '#shared';
import { renderReadme, writeLayer, ZipSink, type ExportedFile, type PostgisLayer } from '../../formats/index.js';
import { LayerGoneError, type LayersExportDependencies, type LayersExportInput } from './layers-export.steps.js';
import type { LayerStamps } from './stamps.step.js';

/** Bump when the bundle's content changes for the same layers (a writer's output, the README): every bundle is rebuilt. */
const BUNDLE_VERSION = 1;

/**
 * Deflate level of the ZIP. 6 (zlib's default, zip's too) costs a third more CPU than 1 for files a few percent
 * smaller; the deflate runs beside the database's COPY, on the other core, so it is the pace the export goes at.
 */
export const ZIP_LEVEL = 6;

export interface Bundle {
  /** The ZIP's storage key. */
  file: string;
  bytes: number;
  exportedAt: string;
  files: ExportedFile[];
}

/** Where the bundle of these layers (at these stamps), formats and name lives: the same export finds the same file. */
export const bundleKey = (input: LayersExportInput, stamps: LayerStamps): string =>
  `exports/layers/${sha256(canonicalJson({ stamps: stamps.layers, formats: input.formats, name: input.name, version: BUNDLE_VERSION })).slice(0, 32)}/${input.name}.zip`;

const FORMAT_ORDER: ExportFormat[] = ['csv', 'shp', 'gpkg', 'geojson'];

/**
 * Formats GDAL writes at once for one layer, each in a thread of libuv's pool reading from a PostgreSQL connection of its
 * own. One at a time, GDAL's formats were most of a bundle's time (bench:export) while the second core idled once the
 * CSV was done.
 */
const GDAL_FORMATS_AT_ONCE = 2;

/**
 * bundle: every layer in every format, and the README, in one ZIP streamed into storage as it is made. Cached by the
 * layers' stamps (the step it needs), the formats and the name; made again when its file is gone from storage.
 */
export const bundleStep = (deps: LayersExportDependencies) =>
  defineStep<LayersExportInput, { stamps: LayerStamps }>()({
    name: 'bundle',
    version: BUNDLE_VERSION,
    needs: ['stamps'],
    // expired and removed, or removed by hand: the cached output names a file that is no more
    isNeeded: async (_ctx, cached: Bundle) => (await deps.storage.stat(cached.file)) === undefined,
    async process(ctx): Promise<Bundle> {
      const { input } = ctx;
      const key = bundleKey(input, ctx.outputs.stamps);
      // a failure of one writer stops the others (GDAL's database sessions are ended)
      const failed = new AbortController();
      const signal = AbortSignal.any([ctx.signal, failed.signal]);
      const sink = new ZipSink({ level: ZIP_LEVEL });
      const stored = deps.storage.write(key, sink.output, { signal, contentType: 'application/zip' });
      stored.catch(() => undefined);
      const total = input.layers.length * input.formats.length;
      let done = 0;
      let lastReport = 0;
      const progress = (message: string, force = false) => {
        const now = Date.now();
        if (!force && now - lastReport < 500) return;
        lastReport = now;
        void deps.progress(done, total, message).catch(() => undefined);
      };
      const exportedAt = new Date();
      try {
        const files: ExportedFile[] = [];
        for (const layerId of input.layers) {
          const layer = await deps.repository.open(layerId);
          if (!layer) throw new LayerGoneError([layerId]);
          files.push(...(await writeAllFormats(layer, input.formats, sink, ctx.scratchDir, signal, deps, failed, progress, () => done++)));
        }
        await sink.addText('README.txt', renderReadme({ title: `Export ${input.name}: ${input.layers.join(', ')}`, exportedAt, files }));
        await sink.finish();
        const object = await stored;
        progress(`${files.length} files, ${object.size} bytes`, true);
        return { file: key, bytes: object.size, exportedAt: exportedAt.toISOString(), files };
      } catch (error) {
        failed.abort(error);
        sink.abort(error as Error);
        await stored.catch(() => undefined);
        // a partial object never stays (the local storage writes aside, a bucket may not)
        await deps.storage.delete(key).catch(() => undefined);
        throw error;
      }
    },
    describe: (_ctx, output: Bundle) => `${output.files.length} files, ${output.bytes} bytes`,
  });

/**
 * One layer in every format. The CSV streams from the database's COPY into the ZIP while GDAL writes the other
 * formats in scratch (in libuv's thread pool, GDAL_FORMATS_AT_ONCE at a time): the database, the deflate and GDAL each
 * get a core when they can. The files come back in FORMAT_ORDER, whichever was done first.
 */
async function writeAllFormats(
  layer: PostgisLayer,
  formats: ExportFormat[],
  sink: ZipSink,
  scratchDir: string,
  signal: AbortSignal,
  deps: LayersExportDependencies,
  failed: AbortController,
  progress: (message: string, force?: boolean) => void,
  finished: () => void,
): Promise<ExportedFile[]> {
  const options = (format: ExportFormat) => ({
    scratchDir,
    signal,
    shapefileMaxBytes: deps.config.GEOJOBS_SHAPEFILE_MAX_BYTES,
    onRows: (rows: number) => progress(`${layer.name}: ${format}, ${rows} of ${layer.features} rows`),
  });
  const write = async (format: ExportFormat) => {
    const files = await writeLayer(layer, format, sink, options(format));
    finished();
    progress(`${layer.name}: ${format} done, ${layer.features} rows`, true);
    return files;
  };
  // the first failure stops the other side at once
  const stopOthers = (error: unknown): never => {
    failed.abort(error);
    throw error;
  };
  const ordered = FORMAT_ORDER.filter((format) => formats.includes(format));
  const streamed = (ordered.includes('csv') ? write('csv') : Promise.resolve([])).catch(stopOthers);
  const limit = pLimit(GDAL_FORMATS_AT_ONCE);
  const byGdal = ordered.filter((format) => format !== 'csv').map((format) => limit(() => write(format)).catch(stopOthers));
  // every side is waited for, so that nothing still writes into scratch or the sink once this returns
  const settled = await Promise.allSettled([streamed, ...byGdal]);
  const rejected = settled.find((result) => result.status === 'rejected');
  if (rejected) throw rejected.reason;
  return settled.flatMap((result) => (result.status === 'fulfilled' ? result.value : []));
}
