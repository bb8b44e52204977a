import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExportFormat } from '#shared';
import { GdalFileLayer, writeLayer, type ExportSink } from '../formats/index.js';
import { uniqueNames } from './package-show.js';
import type { GisSource } from './resource-kind.js';
import type { ManifestFile } from './resource-manifest.js';

export interface ConvertedResource {
  files: ManifestFile[];
  /** Features of every layer (once, not per format). */
  features: number;
}

export interface ConversionOptions {
  /** A folder of the subtask's own, for the files GDAL writes before they go to the sink. */
  scratchDir: string;
  signal: AbortSignal;
  /** GEOJOBS_SHAPEFILE_MAX_BYTES: a layer whose shapefile would pass it is split into parts. */
  shapefileMaxBytes: number;
  /** Features written so far of the file being written (format, layer, count, of the layer's features). */
  onProgress(format: ExportFormat, layer: string, rows: number, features: number): void;
}

/**
 * The GDAL drivers that may open each source, never any other: a file that is not what its label or name says (an
 * image named `.geojson`) is then refused as such, instead of being read by whichever driver recognises it.
 */
const DRIVERS: Record<GisSource, string[]> = {
  geojson: ['GeoJSON'],
  shapefile: ['ESRI Shapefile'],
  geopackage: ['GPKG'],
  kml: ['LIBKML', 'KML'],
  kmz: ['LIBKML', 'KML'],
};

/**
 * The path GDAL opens for a downloaded GIS file: a zipped Shapefile is read inside its ZIP, in the folder that holds
 * it (nothing is extracted).
 */
export const gdalPath = (path: string, source: GisSource, folder = ''): string =>
  source === 'shapefile' ? `/vsizip/${path}${folder ? `/${folder}` : ''}` : path;

/**
 * Converts every layer of a GIS file to each format into `sink`, with the writers every export shares (formats/):
 * CSV with WKT, shapefiles done right (one per geometry type, field names mapped, `.cpg`, split at the limit),
 * GeoPackage, GeoJSON. Files are named after the layer, made safe and unique within the resource. The one call the
 * resource subtask makes to convert.
 */
export async function convertGisFile(
  path: string,
  source: { gis: GisSource; folder?: string },
  formats: readonly ExportFormat[],
  sink: ExportSink,
  options: ConversionOptions,
): Promise<ConvertedResource> {
  const opened = gdalPath(path, source.gis, source.folder);
  const drivers = DRIVERS[source.gis];
  const layerNames = await GdalFileLayer.layerNames(opened, drivers);
  if (layerNames.length === 0) throw new Error('the file holds no layer');
  const fileNames = uniqueNames(layerNames, 'layer');
  const files: ManifestFile[] = [];
  let features = 0;
  for (const [index, layerName] of layerNames.entries()) {
    const layer = await GdalFileLayer.open(opened, { layer: layerName, name: fileNames[index], drivers });
    try {
      features += layer.features;
      for (const format of formats) {
        options.signal.throwIfAborted();
        const scratchDir = join(options.scratchDir, `${index}-${format}`);
        await mkdir(scratchDir, { recursive: true });
        const written = await writeLayer(layer, format, sink, {
          scratchDir,
          signal: options.signal,
          shapefileMaxBytes: options.shapefileMaxBytes,
          onRows: (rows) => options.onProgress(format, layerName, rows, layer.features),
        });
        for (const file of written) {
          files.push({
            path: file.name,
            format: file.format,
            layer: layerName,
            features: file.features,
            fields: file.fields,
            crs: file.crs,
            ...(file.companions.length > 0 ? { companions: file.companions } : {}),
            ...(file.notes.length > 0 ? { notes: file.notes } : {}),
          });
        }
      }
    } finally {
      await layer.close();
    }
  }
  return { files, features };
}
