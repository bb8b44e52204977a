/**
 * A GeoPackage table written to CSV by GDAL's own C code (`vectorTranslateAsync`, on libuv's thread pool), instead of
 * feature by feature through gdal-async on the event loop, which took about half a convert's CPU time in the profile
 * of bench:convert. Each slice of the table is one translation: GDAL's CSV driver reading a native SQLite SELECT of the
 * slice's fid range straight from the GeoPackage (values written as text exactly as the rows path writes them: GDAL's
 * CSV driver would write dates as `2020/01/02` and reals with 15 digits), its geometry as WKT in the first column
 * (GEOMETRY=AS_WKT), which the bundle moves last (csv/wkt-last). The CSV driver writes ISO WKT where the rows path
 * writes OGR's older form, which differ for Z and M (`POINT Z (1 2 3)`, `POINT (1 2 3)`) and multipoints
 * (`MULTIPOINT ((1 2),(3 4))`, `MULTIPOINT (1 2,3 4)`): so only a layer declared as 2D points, lines, polygons,
 * multilines or multipolygons takes that way; any other goes through an OGR VRT over the same SELECT and OGR SQL's
 * OGR_GEOM_WKT, about a fifth more CPU time. (A layer holding other types than it declares, which the GeoPackage
 * standard forbids, would get ISO WKT for those.)
 */
import gdal from 'gdal-async';
import type { NativeCsv } from '../../table-source.js';

/** Rows in a slice: a translation's start costs a few milliseconds; a cancel waits for the slices running. */
export const SLICE_ROWS = 50_000;

/** A GeoPackage table as the native path needs it: its name, fid column, fields (gdal-async's type names), geometry column. */
export interface GpkgTable {
  name: string;
  fid: string;
  fields: { name: string; type: string }[];
  /** The geometry column, absent for an attribute table. */
  geometry?: string;
  /** The geometry's declared type (OGRwkbGeometryType). */
  geometryType?: number;
}

export const sqlName = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const xmlText = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/**
 * A real as the rows path writes it (JavaScript's shortest round-trip text) as closely as SQLite's printf can: 15
 * significant digits when they give the value back, else 16, else 17 (`!`: SQLite's printf stops at 16 without it) —
 * never a digit that changes the value, short of the extremes of the range, where SQLite's own conversions are inexact.
 */
const realText = (column: string): string =>
  `CASE WHEN ${column} IS NULL THEN NULL ` +
  [15, 16].map((digits) => `WHEN CAST(printf('%.${digits}g', ${column}) AS REAL) = ${column} THEN printf('%.${digits}g', ${column}) `).join('') +
  `ELSE printf('%!.17g', ${column}) END`;

/**
 * A column's value as the text the CSV must hold, in GeoPackage's SQL (an expression, so GDAL types it as a plain
 * string and writes it as it is): integers as they are, reals round-trip, dates as stored (GeoPackage stores ISO 8601
 * `YYYY-MM-DD`), timestamps as stored without a `.000` fraction (which OGR's text, as the rows path writes them,
 * leaves out). Undefined for a type the rows path writes otherwise (binary as base64, times, lists).
 */
export function gpkgColumnText(name: string, type: string): string | undefined {
  const column = sqlName(name);
  switch (type) {
    case 'integer':
    case 'integer64':
      return `CAST(${column} AS TEXT)`;
    case 'real':
      return realText(column);
    case 'string':
    case 'date':
      return `${column} || ''`;
    case 'dateTime':
      return `CASE WHEN substr(${column}, 20, 4) = '.000' THEN substr(${column}, 1, 19) || substr(${column}, 24) ELSE ${column} || '' END`;
    default:
      return undefined;
  }
}

/**
 * The SELECT of a slice (fids from `from`, below `to` when given) whose columns are the CSV's: the fid, each field as
 * text, then the geometry (left to GDAL, which writes it as WKT). Undefined when a field cannot be written natively.
 */
export function gpkgSliceSql(table: GpkgTable, from: number, to?: number): string | undefined {
  const columns = [`CAST(${sqlName(table.fid)} AS TEXT) AS c0`];
  for (const [index, field] of table.fields.entries()) {
    const text = gpkgColumnText(field.name, field.type);
    if (text === undefined) return undefined;
    columns.push(`${text} AS c${index + 1}`);
  }
  if (table.geometry !== undefined) columns.push(sqlName(table.geometry));
  const fid = sqlName(table.fid);
  const range = `${fid} >= ${from}${to === undefined ? '' : ` AND ${fid} < ${to}`}`;
  return `SELECT ${columns.join(', ')} FROM ${sqlName(table.name)} WHERE ${range} ORDER BY ${fid}`;
}

/** 2D Point, LineString, Polygon, MultiLineString, MultiPolygon: the types whose ISO WKT is OGR's older WKT. */
const SAME_WKT_TYPES = new Set([1, 2, 3, 5, 6]);

/** Whether a slice's geometry comes first as the CSV driver's WKT (else last, through OGR SQL's OGR_GEOM_WKT). */
const wktFirst = (table: GpkgTable): boolean => table.geometry !== undefined && SAME_WKT_TYPES.has(table.geometryType ?? 0);

/** The header GDAL's CSV driver writes for a slice (c0, c1 …, and WKT first or g last for the geometry), which the bundle skips. */
export function gpkgSliceHeader(table: GpkgTable): string {
  const columns = Array.from({ length: table.fields.length + 1 }, (_, index) => `c${index}`);
  if (table.geometry === undefined) return `${columns.join(',')}\r\n`;
  return `${(wktFirst(table) ? ['WKT', ...columns] : [...columns, 'g']).join(',')}\r\n`;
}

/**
 * The first fid of each slice of `sliceRows` rows, and the table's row count, on a connection of its own: from the
 * first fid, each next start `sliceRows` rows further along the fid (rowid) b-tree, then the last slice's rows counted.
 * One walk over the fids, in as many short queries as slices (a window function numbering every row took about
 * three times as long).
 */
async function sliceStarts(file: string, table: GpkgTable, sliceRows: number): Promise<{ starts: number[]; rows: number }> {
  const fid = sqlName(table.fid);
  const from = sqlName(table.name);
  const dataset = await gdal.openAsync(file, 'r', ['GPKG']);
  // The result layers live until the dataset closes: one collected while the next query runs would block the event
  // loop until that query ends (gdal-async releases a result set under its dataset's lock).
  const results: gdal.Layer[] = [];
  const first = async (sql: string): Promise<number | undefined> => {
    const result = await dataset.executeSQLAsync(sql);
    results.push(result);
    const feature = await result.features.firstAsync();
    const value = feature?.fields.toArray()[0] as number | null | undefined;
    return value === null || value === undefined ? undefined : Number(value);
  };
  try {
    const starts: number[] = [];
    // `+ 0`: a value, not the fid GDAL would take the column for
    for (let start = await first(`SELECT MIN(${fid}) + 0 AS b FROM ${from}`); start !== undefined;) {
      starts.push(start);
      start = await first(`SELECT ${fid} + 0 AS b FROM ${from} WHERE ${fid} >= ${start} ORDER BY ${fid} LIMIT 1 OFFSET ${sliceRows}`);
    }
    if (starts.length === 0) return { starts, rows: 0 };
    const last = (await first(`SELECT COUNT(*) AS n FROM ${from} WHERE ${fid} >= ${starts[starts.length - 1]}`)) ?? 0;
    return { starts, rows: sliceRows * (starts.length - 1) + last };
  } finally {
    dataset.close();
  }
}

/**
 * The native CSV of a GeoPackage table, or undefined when a column needs the rows path. The slices' translations open
 * the file on their own connections (a GDAL dataset is not to be shared between threads).
 */
export async function gpkgNativeCsv(file: string, table: GpkgTable, sliceRows = SLICE_ROWS): Promise<NativeCsv | undefined> {
  if (gpkgSliceSql(table, 0) === undefined) return undefined;
  const { starts, rows } = await sliceStarts(file, table, sliceRows);
  const slices = starts.map((_, index) => (index < starts.length - 1 ? sliceRows : rows - sliceRows * index));
  const options = ['-f', 'CSV', '-lco', 'LINEFORMAT=CRLF', '-lco', 'STRING_QUOTING=IF_NEEDED'];
  return {
    slices,
    headerBytes: Buffer.byteLength(gpkgSliceHeader(table)),
    wktFirst: wktFirst(table),
    async write(index: number, path: string): Promise<void> {
      const sql = gpkgSliceSql(table, starts[index], starts[index + 1])!;
      let source: gdal.Dataset;
      let translation: string[];
      if (table.geometry === undefined || wktFirst(table)) {
        source = await gdal.openAsync(file, 'r', ['GPKG']);
        translation = [...options, ...(table.geometry === undefined ? [] : ['-lco', 'GEOMETRY=AS_WKT']), '-sql', sql];
      } else {
        const vrt =
          `<OGRVRTDataSource><OGRVRTLayer name="t"><SrcDataSource shared="0">${xmlText(file)}</SrcDataSource>` +
          `<SrcSQL>${xmlText(sql)}</SrcSQL></OGRVRTLayer></OGRVRTDataSource>`;
        source = await gdal.openAsync(vrt);
        translation = [...options, '-dialect', 'OGRSQL', '-sql', 'SELECT *, OGR_GEOM_WKT AS g FROM t'];
      }
      try {
        const written = await gdal.vectorTranslateAsync(path, source, translation);
        written.close();
      } finally {
        source.close();
      }
    },
  };
}
