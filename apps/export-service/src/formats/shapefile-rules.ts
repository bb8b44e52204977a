/**
 * The rules of the Shapefile format an export must respect, as pure functions: DBF field names of at most 10 bytes,
 * one geometry type per file, 2 GiB (32-bit offsets) per .shp and .dbf, DBF strings of at most 254 bytes.
 */

/** The longest DBF field name, in bytes. */
export const DBF_NAME_BYTES = 10;
/** The longest DBF string value, in bytes. */
export const DBF_STRING_BYTES = 254;
/** Size of a .shp file's header. */
export const SHP_HEADER_BYTES = 100;

/** The shapefiles one layer is split into, one per kind of geometry; `none` holds features without geometry (a .dbf only). */
export type ShapefileKind = 'points' | 'lines' | 'polygons' | 'none';

/**
 * The shapefile a geometry type goes to (multi kept with its kind: MULTIPOINT with the points, MULTIPOLYGON with the
 * polygons); undefined for what no shapefile can hold (GEOMETRYCOLLECTION, curves, TIN…). `type` is an OGC name as
 * PostGIS's GeometryType or OGR's OGR_GEOMETRY give it (`POINT`, `MULTILINESTRINGM`, `POLYGON25D`…); null: no geometry.
 */
export function shapefileKindOf(type: string | null): ShapefileKind | undefined {
  if (type === null) return 'none';
  const base = type
    .toUpperCase()
    .replace(/(25D|ZM|Z|M)$/, '')
    .trim();
  if (base === 'POINT' || base === 'MULTIPOINT') return 'points';
  if (base === 'LINESTRING' || base === 'MULTILINESTRING') return 'lines';
  if (base === 'POLYGON' || base === 'MULTIPOLYGON') return 'polygons';
  return undefined;
}

/** The shapefile kinds, in the order their files are written and listed. */
export const SHAPEFILE_KINDS: readonly ShapefileKind[] = ['points', 'lines', 'polygons', 'none'];

/** The longest prefix of `name` that fits in `bytes` UTF-8 bytes, never cutting a character in two. */
export function truncateUtf8(name: string, bytes: number): string {
  let out = '';
  let used = 0;
  for (const char of name) {
    const size = Buffer.byteLength(char);
    if (used + size > bytes) break;
    out += char;
    used += size;
  }
  return out;
}

/** One field's name in the source and in the shapefile. */
export interface FieldNameMapping {
  source: string;
  shapefile: string;
}

/**
 * DBF names for the fields, in order. The rule: a name of at most 10 bytes is kept. A longer one is cut to 10 bytes
 * when that is unique; when several long names cut to the same 10 bytes, or the cut meets another field's name, each
 * of them becomes its first bytes followed by a number counting them in field order (`population_total`,
 * `population_urban` → `populatio1`, `populatio2`; the 10th is `populati10`), skipping numbers already taken. DBF
 * names compare without case, so uniqueness does too.
 */
export function shapefileFieldNames(names: readonly string[]): FieldNameMapping[] {
  const key = (name: string) => name.toLowerCase();
  const kept = new Set(names.filter((name) => Buffer.byteLength(name) <= DBF_NAME_BYTES).map(key));
  const cuts = new Map<string, number>();
  for (const name of names) {
    if (Buffer.byteLength(name) <= DBF_NAME_BYTES) continue;
    const cut = key(truncateUtf8(name, DBF_NAME_BYTES));
    cuts.set(cut, (cuts.get(cut) ?? 0) + 1);
  }
  const taken = new Set(kept);
  const counters = new Map<string, number>();
  return names.map((name) => {
    if (Buffer.byteLength(name) <= DBF_NAME_BYTES) return { source: name, shapefile: name };
    const cut = truncateUtf8(name, DBF_NAME_BYTES);
    if (cuts.get(key(cut)) === 1 && !kept.has(key(cut))) {
      taken.add(key(cut));
      return { source: name, shapefile: cut };
    }
    let number = counters.get(key(cut)) ?? 0;
    let candidate: string;
    do {
      number += 1;
      const suffix = String(number);
      candidate = truncateUtf8(name, DBF_NAME_BYTES - suffix.length) + suffix;
    } while (taken.has(key(candidate)));
    counters.set(key(cut), number);
    taken.add(key(candidate));
    return { source: name, shapefile: candidate };
  });
}

/** How a field's values are kept in a DBF. */
export type FieldKind = 'integer' | 'integer64' | 'real' | 'string' | 'date' | 'datetime' | 'time' | 'boolean';

/**
 * The widest a field's DBF column can get, in bytes, as GDAL writes it (it widens numbers and strings as values need
 * it): a bound, for planning splits. Strings: GDAL starts at 80 and grows up to 254; datetimes and times are written as
 * text (a DBF date holds no time).
 */
export function dbfFieldWidthBound(kind: FieldKind, maxStringBytes = 0): number {
  switch (kind) {
    case 'integer':
      return 11;
    case 'integer64':
      return 21;
    case 'real':
      return 33;
    case 'date':
      return 8;
    case 'boolean':
      return 1;
    case 'datetime':
    case 'time':
      return 80;
    case 'string':
      return Math.max(80, Math.min(DBF_STRING_BYTES, maxStringBytes));
  }
}

/** A .dbf's header: 32 bytes, 32 per field, a terminator. */
export const dbfHeaderBytes = (fields: number): number => 32 + 32 * fields + 1;

/** What the split of one shapefile is planned from. */
export interface ShapefileSize {
  features: number;
  /** The largest .shp record of these features (record header included). */
  maxShpRecordBytes: number;
  /** One .dbf record (the deletion flag and every field's width bound). */
  dbfRecordBytes: number;
  fields: number;
}

export interface ShapefilePlan {
  /** 1 when the layer fits in one shapefile. */
  parts: number;
  /** Features in each part but the last, which has the rest. */
  perPart: number;
}

/**
 * How many parts a shapefile needs so that no part's .shp or .dbf passes `maxBytes`: the same number of features per
 * part, as many as the largest record allows (the .shx, 8 bytes a record, is always smaller than the .shp).
 */
export function planShapefileParts(size: ShapefileSize, maxBytes: number): ShapefilePlan {
  if (size.features === 0) return { parts: 1, perPart: 0 };
  // the .dbf ends with an end-of-file byte
  const dbfRoom = maxBytes - dbfHeaderBytes(size.fields) - 1;
  const byDbf = Math.floor(dbfRoom / size.dbfRecordBytes);
  const byShp = size.maxShpRecordBytes > 0 ? Math.floor((maxBytes - SHP_HEADER_BYTES) / size.maxShpRecordBytes) : Number.POSITIVE_INFINITY;
  const perPart = Math.min(byDbf, byShp, size.features);
  if (perPart < 1) {
    throw new RangeError(`a single feature of this layer needs more than the shapefile limit of ${maxBytes} bytes`);
  }
  return { parts: Math.ceil(size.features / perPart), perPart };
}

/**
 * The size of a .shp record for a geometry, record header included: a point is 28 bytes; a multipoint
 * 8 + 40 + 16 per point; a line or polygon 8 + 44 + 4 per part (ring) + 16 per point. With Z (GDAL writes Z and M),
 * 32 more bytes for the ranges and 16 per point.
 */
export function shpRecordBytes(kind: Exclude<ShapefileKind, 'none'>, multi: boolean, parts: number, points: number, hasZ: boolean): number {
  const z = hasZ ? 32 + 16 * points : 0;
  if (kind === 'points') return multi ? 8 + 40 + 16 * points + z : 8 + 20 + (hasZ ? 16 : 0);
  return 8 + 44 + 4 * parts + 16 * points + z;
}

/** The name of a shapefile part: `<layer>_points`, or `<layer>_points_part2` when the layer is split. */
export const shapefileBaseName = (layer: string, kind: ShapefileKind, part: number, parts: number): string =>
  `${layer}_${kind === 'none' ? 'nogeometry' : kind}${parts > 1 ? `_part${part}` : ''}`;
