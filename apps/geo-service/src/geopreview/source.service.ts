import { open, writeFile } from 'node:fs/promises';
import { basename, extname, join, relative } from 'node:path';
import { Injectable } from '@nestjs/common';
import gdal from 'gdal-async';
import { xmlEntityRefusal, type GeoFormat } from '#shared';
import { FormatMismatchError, UnreadableFileError, UnsupportedFormatError, XmlEntityError } from './geopreview.errors.js';

/** What the first bytes of a file say it is. */
export type Sniffed = 'zip' | 'sqlite' | 'json' | 'xml' | 'shp' | 'text' | 'binary' | 'directory';

/** What each format must look like, and the GDAL drivers allowed to open it (never any other). */
const FORMATS: Record<string, { sniffed: Sniffed[]; drivers: string[] }> = {
  geojson: { sniffed: ['json'], drivers: ['GeoJSON'] },
  kml: { sniffed: ['xml'], drivers: ['LIBKML', 'KML'] },
  shp: { sniffed: ['shp'], drivers: ['ESRI Shapefile'] },
  geopackage: { sniffed: ['sqlite'], drivers: ['GPKG'] },
  filegdb: { sniffed: ['directory'], drivers: ['OpenFileGDB'] },
  csv: { sniffed: ['text'], drivers: ['OGR_VRT'] },
  zip: { sniffed: ['zip'], drivers: [] },
};

const BY_EXTENSION: Record<string, string> = {
  '.geojson': 'geojson',
  '.json': 'geojson',
  '.kml': 'kml',
  '.kmz': 'zip',
  '.zip': 'zip',
  '.shp': 'shp',
  '.gpkg': 'geopackage',
  '.gdb': 'filegdb',
  '.csv': 'csv',
};

/** The command's declared format, as the kind of file to expect first (archives are unpacked before opening). */
const BY_DECLARED: Record<GeoFormat, string> = {
  geojson: 'geojson',
  kml: 'kml',
  kmz: 'zip',
  shapefile: 'zip',
  geopackage: 'geopackage',
  filegdb: 'zip',
  csv: 'csv',
};

export async function sniff(path: string): Promise<{ kind: Sniffed; head: string; empty?: boolean }> {
  const handle = await open(path, 'r').catch(() => null);
  if (!handle) return { kind: 'directory', head: '' };
  try {
    if ((await handle.stat()).isDirectory()) return { kind: 'directory', head: '' };
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const bytes = buffer.subarray(0, bytesRead);
    const head = bytes.toString('utf8');
    if (bytesRead === 0) return { kind: 'text', head, empty: true };
    if (bytes.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1')) || bytes.subarray(0, 4).equals(Buffer.from('PK\x05\x06', 'latin1')))
      return { kind: 'zip', head };
    if (bytes.subarray(0, 16).toString('latin1') === 'SQLite format 3\0') return { kind: 'sqlite', head };
    if (bytesRead >= 100 && bytes.readUInt32BE(0) === 9994) return { kind: 'shp', head };
    const text = head.replace(/^\uFEFF/, '').trimStart();
    if (text.startsWith('{') || text.startsWith('[')) return { kind: 'json', head };
    if (text.startsWith('<')) return { kind: 'xml', head };
    if (bytes.includes(0)) return { kind: 'binary', head };
    return { kind: 'text', head };
  } finally {
    await handle.close();
  }
}

/** The kind of file a name or a declared format promises. */
export function expectedKind(path: string, declared?: GeoFormat): string | null {
  if (declared) return BY_DECLARED[declared];
  return BY_EXTENSION[extname(path).toLowerCase()] ?? null;
}

/** Checks a file is what its extension (or declared format) says; returns that kind. */
export async function checkKind(path: string, declared?: GeoFormat): Promise<{ kind: string; head: string }> {
  const expected = expectedKind(path, declared);
  const { kind: actual, head, empty } = await sniff(path);
  if (empty) throw new FormatMismatchError(`${basename(path)} is empty (0 bytes)`);
  if (expected === null) {
    const guessed = Object.entries(FORMATS).find(([, format]) => format.sniffed.includes(actual) && actual !== 'text')?.[0];
    if (!guessed)
      throw new UnsupportedFormatError(`${basename(path)} is not a supported GIS file (GeoJSON, KML, KMZ, zipped Shapefile, GeoPackage, zipped FileGDB, CSV)`);
    return { kind: guessed, head };
  }
  if (!FORMATS[expected].sniffed.includes(actual)) {
    throw new FormatMismatchError(
      `${basename(path)} is not a ${expected === 'zip' ? 'zip archive' : expected} file: its content looks like ${describeSniffed(actual)}`,
    );
  }
  // the whole prolog, not the head read above: a declaration can come after any length of comment
  const refusal = expected === 'kml' ? await xmlEntityRefusal(path) : null;
  if (refusal) throw new XmlEntityError(`${basename(path)} ${refusal}`);
  return { kind: expected, head };
}

const describeSniffed = (kind: Sniffed): string =>
  ({
    zip: 'a zip archive',
    sqlite: 'an SQLite database',
    json: 'JSON',
    xml: 'XML or HTML',
    shp: 'a shapefile',
    text: 'plain text',
    binary: 'binary data',
    directory: 'a folder',
  })[kind];

/** One layer of a source: one unit of work of a geopreview (a subtask, once sagas fan layers out). */
export interface SourceLayer {
  /** Unique within the upload: the layer name, prefixed by the file's path when the upload holds several files. */
  key: string;
  file: string;
  name: string;
  kind: string;
  dataset: gdal.Dataset;
  layer: gdal.Layer;
}

export type OpenedSource = Pick<SourceLayer, 'dataset' | 'layer'>;

/**
 * Opens layer sources with GDAL, each with the one driver its format allows. A CSV is wrapped in a VRT that says
 * where its geometry is: a WKT column, or longitude/latitude columns.
 */
@Injectable()
export class SourceService {
  /**
   * Opens every file and lists its layers. The datasets stay open for the import (a GeoJSON is scanned whole
   * when opened: opening it once saves that scan); the caller closes them with `closeAll`.
   */
  async openAll(files: string[], root: string, declared?: GeoFormat): Promise<SourceLayer[]> {
    const layers: SourceLayer[] = [];
    try {
      for (const file of files) {
        const { kind, head } = await checkKind(file, files.length === 1 ? declared : undefined);
        const dataset = await this.openDataset(file, kind, head);
        for (const layer of dataset.layers) {
          const prefix = files.length > 1 ? `${relative(root, file)}:` : '';
          layers.push({ key: `${prefix}${layer.name}`, file, name: layer.name, kind, dataset, layer });
        }
        if (dataset.layers.count() === 0) dataset.close();
      }
    } catch (error) {
      SourceService.closeAll(layers);
      throw error;
    }
    return layers;
  }

  static closeAll(layers: SourceLayer[]): void {
    for (const dataset of new Set(layers.map((layer) => layer.dataset))) dataset.close();
  }

  private async openDataset(file: string, kind: string, head: string): Promise<gdal.Dataset> {
    const format = FORMATS[kind];
    if (!format || format.drivers.length === 0) throw new UnsupportedFormatError(`${basename(file)}: unsupported format ${kind}`);
    const path = kind === 'csv' ? await this.csvAsVrt(file, head) : file;
    // One driver at a time, in order of preference: given a list, GDAL may take a later one (KML before LIBKML).
    let failure: unknown;
    for (const driver of format.drivers) {
      try {
        return await gdal.openAsync(path, 'r', [driver]);
      } catch (error) {
        failure = error;
      }
    }
    throw new UnreadableFileError(`${basename(file)} could not be read as ${kind}; it may be corrupt or truncated (${(failure as Error).message})`, {
      cause: failure,
    });
  }

  /** A VRT next to the CSV naming its geometry columns; the CSV's own columns all stay. */
  private async csvAsVrt(file: string, head: string): Promise<string> {
    const firstLine = head.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0];
    const separator = [',', ';', '\t', '|'].map((s) => [s, firstLine.split(s).length] as const).sort((a, b) => b[1] - a[1])[0][0];
    const columns = firstLine.split(separator).map((column) => column.trim().replace(/^"(.*)"$/, '$1'));
    const find = (pattern: RegExp) => columns.find((column) => pattern.test(column));
    const wkt = find(/^(wkt|geom|geometry|the_geom|wkt_geom|shape)$/i);
    const lon = find(/^(lon|long|lng|longitude|x|longitud)$/i);
    const lat = find(/^(lat|latitude|y|latitud)$/i);
    const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
    let geometry: string;
    if (wkt) geometry = `<GeometryField encoding="WKT" field="${escape(wkt)}"/>`;
    else if (lon && lat) geometry = `<GeometryType>wkbPoint</GeometryType><GeometryField encoding="PointFromColumns" x="${escape(lon)}" y="${escape(lat)}"/>`;
    else throw new UnsupportedFormatError(`${basename(file)} has no geometry: a CSV needs a WKT column or longitude/latitude columns`);
    const name = basename(file, extname(file));
    const vrt = `<OGRVRTDataSource><OGRVRTLayer name="${escape(name)}"><SrcDataSource relativeToVRT="0">${escape(file)}</SrcDataSource><SrcLayer>${escape(name)}</SrcLayer>${geometry}</OGRVRTLayer></OGRVRTDataSource>`;
    const path = join(file + '.geojobs.vrt');
    await writeFile(path, vrt);
    return path;
  }
}
