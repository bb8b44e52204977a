import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import gdal from 'gdal-async';
import type { ExportFormat } from '#shared';
import { safeName, uniqueNames } from './package-show.js';
import type { GisSource } from './resource-kind.js';
import type { ManifestFile } from './resource-manifest.js';

export interface ConvertedResource {
  /** The files made, by their path under `outDir`. */
  files: ManifestFile[];
  /** Features of every layer (once, not per format). */
  features: number;
  notes: string[];
}

/** The path GDAL opens for a downloaded GIS file: a zipped Shapefile and a KMZ are read inside their ZIP. */
export const gdalPath = (path: string, source: GisSource): string => (source === 'shapefile' ? `/vsizip/${path}` : path);

/** GDAL's output driver and options per export format. */
const WRITERS: Record<ExportFormat, { extension: string; args: string[] }> = {
  csv: { extension: 'csv', args: ['-f', 'CSV', '-lco', 'GEOMETRY=AS_WKT'] },
  geojson: { extension: 'geojson', args: ['-f', 'GeoJSON', '-t_srs', 'EPSG:4326', '-lco', 'RFC7946=YES'] },
  gpkg: { extension: 'gpkg', args: ['-f', 'GPKG'] },
  shp: { extension: 'shp', args: ['-f', 'ESRI Shapefile', '-lco', 'ENCODING=UTF-8'] },
};

/**
 * Converts every layer of a GIS file to each format, into `outDir` (`<layer>.<extension>`, a shapefile with its
 * companions): GDAL's vector translation, in process. The one call the resource subtask makes to convert.
 */
export async function convertGisFile(
  path: string,
  source: GisSource,
  formats: readonly ExportFormat[],
  outDir: string,
  signal: AbortSignal,
): Promise<ConvertedResource> {
  const dataset = await gdal.openAsync(gdalPath(path, source));
  try {
    const layers = dataset.layers.map((layer) => layer);
    if (layers.length === 0) throw new Error('the file holds no layer');
    const names = uniqueNames(
      layers.map((layer) => layer.name),
      'layer',
    );
    const files: ManifestFile[] = [];
    let features = 0;
    for (const [index, layer] of layers.entries()) {
      const count = layer.features.count(true);
      features += count;
      for (const format of formats) {
        signal.throwIfAborted();
        const { extension, args } = WRITERS[format];
        const name = `${names[index]}.${extension}`;
        const before = new Set(await readdir(outDir));
        const written = await gdal.vectorTranslateAsync(join(outDir, name), dataset, [...args, '-nln', safeName(names[index], 'layer'), layer.name]);
        written.close();
        const made = (await readdir(outDir)).filter((file) => !before.has(file) && file !== name).sort();
        files.push({
          path: name,
          bytes: (await stat(join(outDir, name))).size,
          format,
          layer: layer.name,
          features: count,
          ...(made.length > 0 ? { companions: made } : {}),
        });
      }
    }
    return { files, features, notes: [] };
  } finally {
    dataset.close();
  }
}
