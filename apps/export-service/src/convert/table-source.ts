/**
 * What `export.convert` reads a database file through, whatever its engine: Firebird (sources/firebird), or GDAL for
 * GeoPackage, SQLite/SpatiaLite, FileGDB and Shapefiles (sources/gdal). The convert pipeline picks an opener by the
 * file's first bytes, lists the tables, and streams each table's rows into a CSV of the ZIP.
 */

/** How a column's values are written to CSV. */
export type ColumnKind =
  | 'text' // strings, as they are (text BLOBs included)
  | 'integer' // number or bigint
  | 'decimal' // exact numerics, as strings or numbers, written as they are
  | 'float'
  | 'boolean'
  | 'date' // a calendar date: written YYYY-MM-DD
  | 'timestamp' // a date and time: written ISO 8601
  | 'time' // a time of day: written HH:MM:SS[.fff]
  | 'binary' // bytes: written base64
  | 'geometry'; // written as WKT (the source gives WKT text)

export interface SourceColumn {
  name: string;
  /** The engine's own type name, for the README (`VARCHAR(40) CHARACTER SET WIN1252`, `Integer64`, `BLOB SUB_TYPE TEXT`). */
  type: string;
  kind: ColumnKind;
}

export interface SourceTable {
  name: string;
  columns: SourceColumn[];
}

/**
 * A value of a row, in column order: a string for text (decoded from the source charset), WKT for geometry and
 * time-of-day; a number or bigint; a boolean; a Date for date and timestamp kinds; a Buffer for binary; null for NULL.
 */
export type SourceValue = string | number | bigint | boolean | Date | Buffer | null;

/**
 * A table the engine writes as CSV itself (its own code, on libuv's thread pool, not the event loop), in slices of
 * its rows, so that slices run in parallel and a cancel waits for one slice at most. Each slice file holds a header
 * line of `headerBytes` bytes (the engine's own, skipped: the bundle writes the header row) and then the slice's
 * records: UTF-8, RFC 4180, CRLF, the columns of the SourceTable in order, every value as the rows path writes it.
 */
export interface NativeCsv {
  /** Rows in each slice, in order (none for an empty table). */
  readonly slices: readonly number[];
  readonly headerBytes: number;
  /**
   * The engine writes the geometry (the table's last column) first, always quoted, as GDAL's CSV driver does: the
   * bundle moves it last (csv/wkt-last).
   */
  readonly wktFirst?: boolean;
  /** Writes slice `index` to a new file at `path`. */
  write(index: number, path: string): Promise<void>;
}

/** An opened database: its tables and their rows, read with a cursor (never paged with OFFSET/SKIP). */
export interface TableSource {
  /** What the engine is, for the README and messages: `Firebird 3 (ODS 12.0)`, `GeoPackage`, `ESRI FileGDB`. */
  readonly engine: string;
  /** The source's charset as the database declares it (`WIN1252`, `UTF-8`). */
  readonly charset: string;
  /** Every table (user tables only; no system tables), in a stable order. */
  tables(): Promise<SourceTable[]>;
  /** The table's rows, streamed; stops (and releases its cursor) when the signal fires or the caller stops iterating. */
  rows(table: SourceTable, signal: AbortSignal): AsyncIterable<SourceValue[]>;
  /**
   * The table written by the engine itself, when it can write every column exactly as `rows` + the CSV writer would
   * (GeoPackage tables without binary columns); undefined when the table must go through `rows`.
   */
  nativeCsv?(table: SourceTable): Promise<NativeCsv | undefined>;
  /** Releases the connection, attachment or dataset; removes nothing the caller owns. */
  close(): Promise<void>;
}

/** Opens a kind of database file. */
export interface TableSourceOpener {
  /** A name for messages: `firebird`, `gdal`. */
  readonly name: string;
  /** Whether this opener reads a file that starts with `head` (at least the first 4,096 bytes, fewer for a small file). */
  recognises(head: Buffer, fileName: string): boolean;
  /**
   * Opens the file at `path`; `scratchDir` is the job's own folder for what the opener must make (a restored Firebird
   * backup, an unpacked zip), removed by the caller afterwards. Throws a `ConvertInputError` (readable message) for a
   * file it recognised but cannot read: a truncated backup, an old on-disk structure, an encrypted database.
   */
  open(path: string, scratchDir: string, signal: AbortSignal): Promise<TableSource>;
}

/** The input cannot be converted, for a reason its owner can act on: the job fails with this message. */
export class ConvertInputError extends Error {
  override readonly name = 'ConvertInputError';
}
