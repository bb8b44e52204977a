import gdal from 'gdal-async';
import type { LayerField } from './exported-file.js';
import { quoteOgr } from './ogr-sql.js';
import { shapefileKindOf, shpRecordBytes, type FieldKind, type ShapefileKind } from './shapefile-rules.js';
import type { KindStats, ShapefileSelection, ShapefileStats, TranslateOptions, VectorLayer } from './vector-layer.js';

const KIND_OF_TYPE: Record<string, FieldKind> = {
  integer: 'integer',
  integer64: 'integer64',
  real: 'real',
  date: 'date',
  datetime: 'datetime',
  time: 'time',
};

/** OGR SQL's names of the geometry types of each shapefile kind (its OGR_GEOMETRY special field). */
const OGR_TYPES: Record<Exclude<ShapefileKind, 'none'>, string[]> = {
  points: ['POINT', 'MULTIPOINT'],
  lines: ['LINESTRING', 'MULTILINESTRING'],
  polygons: ['POLYGON', 'MULTIPOLYGON'],
};

/** The EPSG code of a CRS when GDAL can tell it, else its name. */
export function crsName(srs: gdal.SpatialReference | null): string {
  if (!srs) return 'unknown';
  try {
    srs.autoIdentifyEPSG();
  } catch {
    // not identifiable: named below
  }
  const authority = srs.getAuthorityName(null);
  const code = srs.getAuthorityCode(null);
  if (authority && code) return `${authority}:${code}`;
  return srs.getAttrValue('PROJCS') ?? srs.getAttrValue('GEOGCS') ?? 'unknown';
}

/**
 * A layer of a local GIS file (GeoJSON, an unpacked shapefile, GeoPackage, KML…) opened with gdal-async: what a
 * dataset export converts. Every format (the CSV too) is written by GDAL's vector translation, in process.
 */
export class GdalFileLayer implements VectorLayer {
  private constructor(
    private readonly dataset: gdal.Dataset,
    private readonly layer: gdal.Layer,
    readonly name: string,
    readonly fields: LayerField[],
    readonly crs: string,
    readonly features: number,
  ) {}

  /** Every layer of the file, by GDAL's name; `drivers`: the only GDAL drivers that may open it (any when absent). */
  static async layerNames(path: string, drivers?: string[]): Promise<string[]> {
    const dataset = await gdal.openAsync(path, 'r', drivers);
    try {
      return dataset.layers.map((layer) => layer.name);
    } finally {
      dataset.close();
    }
  }

  /** Opens `layer` (the first when absent) of the file; `name` names its files (the layer's name by default). */
  static async open(path: string, options: { layer?: string; name?: string; drivers?: string[] } = {}): Promise<GdalFileLayer> {
    const dataset = await gdal.openAsync(path, 'r', options.drivers);
    try {
      const layer = options.layer === undefined ? dataset.layers.get(0) : dataset.layers.get(options.layer);
      if (!layer) throw new Error(`no layer ${options.layer ?? ''} in ${path}`.replace('  ', ' '));
      const fields = layer.fields.map((field) => ({
        name: field.name,
        kind: KIND_OF_TYPE[field.type] ?? 'string',
        sourceType: field.type,
      }));
      return new GdalFileLayer(dataset, layer, options.name ?? layer.name, fields, crsName(layer.srs), layer.features.count(true));
    } catch (error) {
      dataset.close();
      throw error;
    }
  }

  /** One pass over the features (a file has no query planner to ask). */
  async shapefileStats(signal: AbortSignal): Promise<ShapefileStats> {
    const stats: ShapefileStats = { kinds: {}, unholdable: {}, strings: {} };
    const strings = this.fields.filter((field) => field.kind === 'string');
    for (const field of strings) stats.strings[field.name] = { maxBytes: 0, over: 0 };
    this.layer.features.first();
    let seen = 0;
    for (let feature = this.layer.features.first(); feature; feature = this.layer.features.next()) {
      if (++seen % 10_000 === 0) {
        signal.throwIfAborted();
        await new Promise((resolve) => setImmediate(resolve));
      }
      const geometry = feature.getGeometry();
      // GDAL names types in words ('Multi Point'); OGC names run them together
      const type = geometry ? gdal.Geometry.getName(geometry.wkbType).toUpperCase().replace(/ /g, '') : null;
      const kind = shapefileKindOf(type);
      if (kind === undefined) {
        stats.unholdable[type!] = (stats.unholdable[type!] ?? 0) + 1;
        continue;
      }
      const hasZ = geometry ? geometry.coordinateDimension > 2 : false;
      const multi = type === 'MULTIPOINT';
      // a bound: WKB is never much smaller than the .shp record (which adds a bounding box and part offsets)
      const record = !geometry ? 0 : kind === 'points' && !multi ? shpRecordBytes('points', false, 1, 1, hasZ) : Math.ceil(geometry.wkbSize * 2) + 64;
      const known: KindStats = stats.kinds[kind] ?? { features: 0, maxShpRecordBytes: 0, multi: false, hasZ: false };
      stats.kinds[kind] = {
        features: known.features + 1,
        maxShpRecordBytes: Math.max(known.maxShpRecordBytes, record),
        multi: known.multi || multi,
        hasZ: known.hasZ || hasZ,
      };
      for (const field of strings) {
        const value = feature.fields.get(field.name) as unknown;
        if (value === null || value === undefined) continue;
        // lists and binaries are written as text too
        const bytes = Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value));
        const known = stats.strings[field.name];
        known.maxBytes = Math.max(known.maxBytes, bytes);
        if (bytes > 254) known.over++;
      }
    }
    return stats;
  }

  async translate(destination: string, args: string[], options: TranslateOptions): Promise<void> {
    const { signal, selection, onFraction } = options;
    signal.throwIfAborted();
    const what = selection ? ['-sql', this.selectionSql(selection)] : [this.layer.name];
    // a file's translation cannot be stopped from outside: it runs to its end, and the caller discards the output
    const translated = await gdal.vectorTranslateAsync(
      destination,
      this.dataset,
      [...args, ...what],
      onFraction ? { progress_cb: (fraction: number) => onFraction(fraction) } : {},
    );
    translated.close();
    signal.throwIfAborted();
  }

  async close(): Promise<void> {
    this.dataset.close();
  }

  /** One shapefile part in OGR SQL (datetimes and times cast to text, which a DBF keeps whole). */
  selectionSql(selection: ShapefileSelection): string {
    const columns = selection.columns.map(({ field, alias }) =>
      field.kind === 'datetime' || field.kind === 'time'
        ? `CAST(${quoteOgr(field.name)} AS character(64)) AS ${quoteOgr(alias)}`
        : `${quoteOgr(field.name)} AS ${quoteOgr(alias)}`,
    );
    const where = selection.kind === 'none' ? 'OGR_GEOMETRY IS NULL' : `OGR_GEOMETRY IN (${OGR_TYPES[selection.kind].map((type) => `'${type}'`).join(', ')})`;
    const split = selection.limit === undefined ? '' : ` LIMIT ${selection.limit} OFFSET ${selection.offset ?? 0}`;
    return `SELECT ${columns.length > 0 ? columns.join(', ') : 'FID'} FROM ${quoteOgr(this.layer.name)} WHERE ${where}${split}`;
  }
}
