import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { findProcessor, type Storage } from '#shared';
import { ProcessorError, type PackageProcessor, type ProcessorOutput, type ProcessorRun } from '../processor.js';

/** Nodata written outside the boundary when the source declares none: the lowest value of integer types is rarely data. */
const DEFAULT_NODATA: Record<string, number> = { Byte: 0, UInt16: 0, UInt32: 0, Int16: -32768, Int32: -2147483648 };

/**
 * `raster_clip`: the configured GeoTIFF (a file in storage) warped with the boundary as cutline, cropped to its
 * envelope, every pixel outside the boundary nodata, written as a Cloud-Optimized GeoTIFF.
 */
export class RasterClipProcessor implements PackageProcessor {
  readonly manifest = findProcessor('raster_clip.version_1')!;

  constructor(
    private readonly storage: Storage,
    private readonly sourceKey: string | undefined,
  ) {}

  async process({ boundary, scratch, progress, signal }: ProcessorRun): Promise<ProcessorOutput> {
    if (!this.sourceKey) throw new ProcessorError('no GeoTIFF is configured for raster_clip (GEOJOBS_PACKAGES_RASTER_SOURCE)');
    if (!(await this.storage.stat(this.sourceKey))) throw new ProcessorError(`the configured GeoTIFF ${this.sourceKey} is not in storage`);
    const sourcePath = join(scratch, 'source.tif');
    await this.storage.download(this.sourceKey, sourcePath, { signal });
    await progress(20, 'downloaded the source');

    let source: gdal.Dataset;
    try {
      source = await gdal.openAsync(sourcePath, 'r', ['GTiff']);
    } catch (error) {
      throw new ProcessorError(`the configured source ${this.sourceKey} is not a GeoTIFF: ${(error as Error).message}`);
    }
    try {
      if (source.bands.count() === 0) throw new ProcessorError(`the configured source ${this.sourceKey} has no raster band`);
      const band = source.bands.get(1);
      const nodata = band.noDataValue ?? DEFAULT_NODATA[band.dataType ?? ''] ?? -9999;
      const cutline = join(scratch, 'cutline.geojson');
      await writeFile(cutline, JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: {}, geometry: boundary.geometry }] }));
      signal.throwIfAborted();
      const output = join(scratch, 'raster_clip.tif');
      let reported = 20;
      const warped = await gdal.warpAsync(
        output,
        null,
        [source],
        ['-of', 'COG', '-cutline', cutline, '-crop_to_cutline', '-dstnodata', String(nodata), '-co', 'COMPRESS=DEFLATE', '-overwrite'],
        {
          progress_cb: (complete: number) => {
            // gdal-async stops a warp whose progress callback throws: a cancelled job stops warping
            if (signal.aborted) throw new Error('cancelled');
            const percent = 20 + Math.floor(complete * 75);
            if (percent >= reported + 10) {
              reported = percent;
              void progress(percent, 'warping to the boundary').catch(() => undefined);
            }
          },
        },
      );
      warped.close();
      signal.throwIfAborted();
    } finally {
      source.close();
    }
    await progress(100, 'clipped');
    return {
      source: `storage://${this.sourceKey}`,
      files: [{ name: 'raster_clip.tif', format: 'tif', mediatype: 'image/tiff; application=geotiff; profile=cloud-optimized' }],
    };
  }
}
