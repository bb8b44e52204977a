import { randomBytes } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import gdal from 'gdal-async';
import type { Pool, PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { LAYER_FID_COLUMN, LAYER_GEOMETRY_COLUMN, LAYERS_SCHEMA, libpqConnectionString, quoteIdent } from '#shared';
import type { LayerField } from './exported-file.js';
import { shapefileKindOf, shpRecordBytes, type FieldKind, type ShapefileKind } from './shapefile-rules.js';
import { stopOnAbort, type ShapefileSelection, type ShapefileStats, type TranslateOptions, type VectorLayer } from './vector-layer.js';

/** Prefix of the `application_name` of GDAL's connections: a cancelled export ends its own sessions by it. */
export const EXPORT_APPLICATION_NAME = 'geojobs-export';

const KIND_OF_TYPE: Record<string, FieldKind> = {
  int2: 'integer',
  int4: 'integer',
  int8: 'integer64',
  float4: 'real',
  float8: 'real',
  numeric: 'real',
  date: 'date',
  timestamp: 'datetime',
  timestamptz: 'datetime',
  time: 'time',
  timetz: 'time',
  bool: 'boolean',
};

/** What a field's values become in a shapefile's DBF: text where the DBF has no type that keeps them whole. */
const dbfExpression = (field: LayerField): string =>
  field.kind === 'datetime' || field.kind === 'time' || (field.kind === 'string' && !['varchar', 'text', 'bpchar'].includes(field.sourceType))
    ? `${quoteIdent(field.name)}::text`
    : quoteIdent(field.name);

/** The rows of one shapefile kind (geometry types as PostGIS names them, without the M suffix). */
const kindCondition = (kind: ShapefileKind, geometry: string): string => {
  const type = `rtrim(GeometryType(${geometry}), 'M')`;
  switch (kind) {
    case 'points':
      return `${type} IN ('POINT', 'MULTIPOINT')`;
    case 'lines':
      return `${type} IN ('LINESTRING', 'MULTILINESTRING')`;
    case 'polygons':
      return `${type} IN ('POLYGON', 'MULTIPOLYGON')`;
    case 'none':
      return `${geometry} IS NULL`;
  }
};

/**
 * A table of the layers schema (`layers.<layer id>`, as geo-service imports it: `ogc_fid`, `wkb_geometry` and the
 * attributes), read through export-service's read-only role: the CSV with COPY, the GDAL formats through GDAL's
 * PostgreSQL driver in process.
 */
export class PostgisLayer implements VectorLayer {
  private constructor(
    private readonly pool: Pool,
    private readonly databaseUrl: string,
    readonly table: string,
    readonly name: string,
    readonly fields: LayerField[],
    readonly crs: string,
    readonly features: number,
    /** The geometry column's declared type (`POINT`, `GEOMETRY`…) and dimension, as geometry_columns has them. */
    private readonly declared: { type: string; dimension: number },
  ) {}

  /** Reads the table's columns, CRS and row count; undefined when there is no such table. */
  static async open(pool: Pool, databaseUrl: string, table: string, name = table): Promise<PostgisLayer | undefined> {
    const ref = `${LAYERS_SCHEMA}.${quoteIdent(table)}`;
    const columns = await pool.query<{ name: string; type: string }>(
      `SELECT a.attname AS name, t.typname AS type FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
        WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [ref],
    );
    if (columns.rows.length === 0) return undefined;
    const fields = columns.rows
      .filter((column) => column.name !== LAYER_FID_COLUMN && column.name !== LAYER_GEOMETRY_COLUMN)
      .map((column) => ({ name: column.name, kind: KIND_OF_TYPE[column.type] ?? 'string', sourceType: column.type }));
    const srid = await pool.query<{ srid: number; type: string; dimension: number }>(
      'SELECT srid, type, coord_dimension AS dimension FROM geometry_columns WHERE f_table_schema = $1 AND f_table_name = $2 AND f_geometry_column = $3',
      [LAYERS_SCHEMA, table, LAYER_GEOMETRY_COLUMN],
    );
    const count = await pool.query<{ count: string }>(`SELECT count(*) AS count FROM ${ref}`);
    // geo-service imports every layer in EPSG:4326; a table without a declared SRID is taken as that
    const crs = `EPSG:${srid.rows[0]?.srid || 4326}`;
    const declared = { type: srid.rows[0]?.type ?? 'GEOMETRY', dimension: srid.rows[0]?.dimension ?? 2 };
    return new PostgisLayer(pool, databaseUrl, table, name, fields, crs, Number(count.rows[0].count), declared);
  }

  private get ref(): string {
    return `${LAYERS_SCHEMA}.${quoteIdent(this.table)}`;
  }

  /** The CSV, straight from PostgreSQL's COPY: the database formats the rows (WKT included) on its own core. */
  async csvStream(signal: AbortSignal): Promise<{ body: Readable; rows: Promise<number> }> {
    const client = await this.pool.connect();
    const columns = [`ST_AsText(${quoteIdent(LAYER_GEOMETRY_COLUMN)}) AS "WKT"`, ...this.fields.map((field) => quoteIdent(field.name))];
    const copy = client.query(copyTo(`COPY (SELECT ${columns.join(', ')} FROM ${this.ref}) TO STDOUT WITH (FORMAT csv, HEADER)`));
    let released = false;
    const release = (error?: Error) => {
      if (released) return;
      released = true;
      // a COPY broken off leaves the connection mid-protocol: it is closed, not pooled again
      client.release(error);
    };
    const onAbort = () => {
      copy.destroy(signal.reason as Error);
      release(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const rows = new Promise<number>((resolve, reject) => {
      copy.on('end', () => {
        signal.removeEventListener('abort', onAbort);
        release();
        // the header is not a row
        resolve(copy.rowCount);
      });
      copy.on('error', (error) => {
        signal.removeEventListener('abort', onAbort);
        release(error);
        reject(error);
      });
    });
    rows.catch(() => undefined);
    return { body: copy, rows };
  }

  async shapefileStats(signal: AbortSignal): Promise<ShapefileStats> {
    const geometry = quoteIdent(LAYER_GEOMETRY_COLUMN);
    const strings = this.fields.filter((field) => field.kind === 'string');
    if (this.declared.type === 'POINT') return this.pointStats(signal, strings);
    const type = `rtrim(GeometryType(${geometry}), 'M')`;
    const points = `ST_NPoints(${geometry})`;
    const z = `CASE WHEN ST_NDims(${geometry}) > 2 THEN 32 + 16 * ${points} ELSE 0 END`;
    // the .shp record of each feature (shapefile-rules.ts shpRecordBytes, in SQL)
    const record = `CASE ${type} WHEN 'POINT' THEN 28 + CASE WHEN ST_NDims(${geometry}) > 2 THEN 16 ELSE 0 END
        WHEN 'MULTIPOINT' THEN 48 + 16 * ${points} + ${z}
        ELSE 52 + 4 * (CASE WHEN ${type} LIKE '%POLYGON' THEN ST_NRings(${geometry}) ELSE ST_NumGeometries(${geometry}) END) + 16 * ${points} + ${z} END`;
    const stringColumns = strings.flatMap((field, index) => {
      const bytes = `octet_length(${dbfExpression(field)})`;
      return [`max(${bytes}) AS s${index}_max`, `count(*) FILTER (WHERE ${bytes} > 254) AS s${index}_over`];
    });
    const sql = `SELECT ${type} AS type, count(*) AS features, max(${record}) AS record, bool_or(ST_NDims(${geometry}) > 2) AS z
      ${stringColumns.map((column) => `, ${column}`).join('')} FROM ${this.ref} GROUP BY 1`;
    const result = await this.cancellable(signal, (client) => client.query<Record<string, string | number | boolean | null>>(sql));
    const stats: ShapefileStats = { kinds: {}, unholdable: {}, strings: {} };
    for (const field of strings) stats.strings[field.name] = { maxBytes: 0, over: 0 };
    for (const row of result.rows) {
      const features = Number(row.features);
      const geometryType = row.type as string | null;
      const kind = shapefileKindOf(geometryType);
      if (kind === undefined) {
        stats.unholdable[geometryType!] = (stats.unholdable[geometryType!] ?? 0) + features;
        continue;
      }
      const known = stats.kinds[kind] ?? { features: 0, maxShpRecordBytes: 0, multi: false, hasZ: false };
      stats.kinds[kind] = {
        features: known.features + features,
        maxShpRecordBytes: Math.max(known.maxShpRecordBytes, Number(row.record ?? 0)),
        multi: known.multi || geometryType === 'MULTIPOINT',
        hasZ: known.hasZ || row.z === true,
      };
      strings.forEach((field, index) => {
        const seen = stats.strings[field.name];
        seen.maxBytes = Math.max(seen.maxBytes, Number(row[`s${index}_max`] ?? 0));
        seen.over += Number(row[`s${index}_over`] ?? 0);
      });
    }
    return stats;
  }

  /**
   * A column declared of type Point (most big layers) holds points or nothing, every .shp record the same size: the
   * scan only measures strings and counts features without geometry, a quarter of the general query's time.
   */
  private async pointStats(signal: AbortSignal, strings: LayerField[]): Promise<ShapefileStats> {
    const geometry = quoteIdent(LAYER_GEOMETRY_COLUMN);
    const measures = strings.flatMap((field, index) => {
      const bytes = `octet_length(${dbfExpression(field)})`;
      return [`, max(${bytes}) AS s${index}_max`, `, count(*) FILTER (WHERE ${bytes} > 254) AS s${index}_over`];
    });
    const sql = `SELECT count(*) FILTER (WHERE ${geometry} IS NOT NULL) AS points, count(*) FILTER (WHERE ${geometry} IS NULL) AS none${measures.join('')} FROM ${this.ref}`;
    const [row] = (await this.cancellable(signal, (client) => client.query<Record<string, string | null>>(sql))).rows;
    const hasZ = this.declared.dimension > 2;
    const stats: ShapefileStats = { kinds: {}, unholdable: {}, strings: {} };
    if (Number(row.points) > 0) {
      stats.kinds.points = { features: Number(row.points), maxShpRecordBytes: shpRecordBytes('points', false, 1, 1, hasZ), multi: false, hasZ };
    }
    if (Number(row.none) > 0) stats.kinds.none = { features: Number(row.none), maxShpRecordBytes: 0, multi: false, hasZ: false };
    strings.forEach((field, index) => {
      stats.strings[field.name] = { maxBytes: Number(row[`s${index}_max`] ?? 0), over: Number(row[`s${index}_over`] ?? 0) };
    });
    return stats;
  }

  async translate(destination: string, args: string[], options: TranslateOptions): Promise<void> {
    const { signal, selection, onFraction } = options;
    signal.throwIfAborted();
    // gdal-async cannot stop a running translation: a cancelled one has its database session ended (by its
    // application_name, which export's role may do to its own sessions), and GDAL fails at its next read
    const applicationName = `${EXPORT_APPLICATION_NAME}-${randomBytes(6).toString('hex')}`;
    const connection = libpqConnectionString(this.databaseUrl, { application_name: applicationName });
    const source = await gdal.openAsync(`PG:${connection} tables=${LAYERS_SCHEMA}.${this.table}`, 'r', ['PostgreSQL']);
    try {
      const what = selection ? ['-sql', this.selectionSql(selection)] : [`${LAYERS_SCHEMA}.${this.table}`];
      const work = gdal.vectorTranslateAsync(
        destination,
        source,
        [...args, ...what],
        onFraction ? { progress_cb: (fraction: number) => onFraction(fraction) } : {},
      );
      const translated = await stopOnAbort(work, signal, () =>
        this.pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [applicationName]),
      );
      translated.close();
    } finally {
      source.close();
    }
  }

  async close(): Promise<void> {
    // the pool is the caller's
  }

  /** The SQL of one shapefile part, in PostgreSQL's own dialect (GDAL passes it through). */
  selectionSql(selection: ShapefileSelection): string {
    const geometry = quoteIdent(LAYER_GEOMETRY_COLUMN);
    const columns = selection.columns.map(({ field, alias }) => `${dbfExpression(field)} AS ${quoteIdent(alias)}`);
    if (selection.kind !== 'none') columns.unshift(geometry);
    const split = selection.limit === undefined ? '' : ` ORDER BY ${quoteIdent(LAYER_FID_COLUMN)} LIMIT ${selection.limit} OFFSET ${selection.offset ?? 0}`;
    // a table without attributes still has rows: a part of the 'none' kind selects its ids
    const list = columns.length > 0 ? columns.join(', ') : quoteIdent(LAYER_FID_COLUMN);
    return `SELECT ${list} FROM ${this.ref} WHERE ${kindCondition(selection.kind, geometry)}${split}`;
  }

  /** Runs a query on a connection of its own, cancelled (pg_cancel_backend) when the signal fires. */
  private async cancellable<T>(signal: AbortSignal, work: (client: PoolClient) => Promise<T>): Promise<T> {
    signal.throwIfAborted();
    const client = await this.pool.connect();
    try {
      const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      return await stopOnAbort(work(client), signal, () => this.pool.query('SELECT pg_cancel_backend($1)', [pid]));
    } finally {
      client.release();
    }
  }
}

/**
 * A CSV stream's rows, counted as they pass, for progress only: newlines, found natively (a newline inside a quoted
 * value counts too; the exact count is COPY's own, at the end).
 */
export function countingRows(onRows: (rows: number) => void, everyMs = 500): Transform {
  let lines = 0;
  let last = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) lines++;
      const now = Date.now();
      if (now - last >= everyMs) {
        last = now;
        // the header is not a row
        onRows(Math.max(lines - 1, 0));
      }
      callback(null, chunk);
    },
    flush(callback) {
      onRows(Math.max(lines - 1, 0));
      callback();
    },
  });
}
