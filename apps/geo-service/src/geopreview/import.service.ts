import { randomBytes } from 'node:crypto';
import gdal from 'gdal-async';
import type { Logger } from 'pino';
import type { DataSource, QueryRunner } from 'typeorm';
import { LAYER_FID_COLUMN as FID_COLUMN, LAYER_GEOMETRY_COLUMN as GEOMETRY_COLUMN, LAYERS_SCHEMA, WEB_MERCATOR, webMercatorPredicate } from '#shared';
import { LayerImportError } from './geopreview.errors.js';
import { pgConnectionString, quoteIdent, STAGING_SCHEMA } from './layer-name.js';
import type { OpenedSource } from './source.service.js';

/** The recoveries a real portal needs, applied one by one when an import fails (HDX's problem solver). */
export interface ImportAttempt {
  promoteToMulti: boolean;
  latin1: boolean;
}

export interface ImportResult {
  /** What had to be done to get the layer in: `promote-to-multi`, `assume-epsg-4326`, `latin1`. */
  recoveries: string[];
  /** Features outside longitude/latitude range, deleted. */
  droppedFeatures: number;
}

const SINGLE_TYPES = new Set([gdal.wkbPoint, gdal.wkbLineString, gdal.wkbPolygon, gdal.wkbPoint25D, gdal.wkbLineString25D, gdal.wkbPolygon25D, gdal.wkbUnknown]);

/**
 * GDAL's `PGCLIENTENCODING` is process-wide: it turns off GDAL's own UTF-8 check, so it is set only while a
 * latin1 retry runs (that connection itself is opened with client_encoding=LATIN1). Another import running at
 * the same time then meets PostgreSQL's own check instead, which fails its bad bytes just the same.
 */
let latin1Imports = 0;
const withLatin1 = async <T>(run: () => Promise<T>): Promise<T> => {
  if (latin1Imports++ === 0) gdal.config.set('PGCLIENTENCODING', 'LATIN1');
  try {
    return await run();
  } finally {
    if (--latin1Imports === 0) gdal.config.set('PGCLIENTENCODING', null as unknown as string);
  }
};

/** Prefix of the `application_name` of GDAL's connections, so an import's backend can be found (and stopped). */
export const IMPORT_APPLICATION_NAME = 'geojobs-import';

/** How often a stop is sent again while the work it should end has not ended (see `stopOnAbort`). */
const STOP_REPEAT_MS = 200;

/**
 * Waits for `work`; when the signal fires first, runs `stop` at once and again every STOP_REPEAT_MS until the work
 * has settled, since one stop can miss (a backend still connecting, a cancel landing between two statements).
 * Returns only once no stop is in flight any more, so none reaches a connection after it went back to the pool.
 * Work that fails after an abort rejects with the abort reason.
 */
async function stopOnAbort<T>(work: Promise<T>, signal: AbortSignal | undefined, stop: () => Promise<unknown>): Promise<T> {
  if (signal === undefined) return work;
  let stopping: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    stopping = stopping.then(stop).catch(() => undefined);
    timer = setTimeout(fire, STOP_REPEAT_MS);
  };
  if (signal.aborted) fire();
  else signal.addEventListener('abort', fire, { once: true });
  try {
    return await work;
  } catch (error) {
    signal.throwIfAborted();
    throw error;
  } finally {
    signal.removeEventListener('abort', fire);
    clearTimeout(timer);
    await stopping;
  }
}

const isWgs84 = (srs: gdal.SpatialReference): boolean => {
  try {
    srs.autoIdentifyEPSG();
  } catch {
    // not identifiable: compared by name below
  }
  return srs.getAuthorityName(null) === 'EPSG' && srs.getAuthorityCode(null) === '4326';
};

/** `stg_<milliseconds since 1970, base 36>_<random>`: unique, and telling when the import began. */
const stagingTableName = (): string => `stg_${Date.now().toString(36)}_${randomBytes(6).toString('hex')}`;
const stagingTableMadeAt = (name: string): number | undefined => {
  const match = /^stg_([0-9a-z]+)_[0-9a-f]+$/.exec(name);
  return match ? parseInt(match[1], 36) : undefined;
};

/**
 * Imports one layer into PostGIS in process with GDAL's ogr2ogr library (COPY, one transaction per 64k rows),
 * reprojected to EPSG:4326, into a staging table of its own (in STAGING_SCHEMA); then indexes it, cleans it and swaps it in for the
 * layer's table in one transaction, so a reader sees the old layer or the new one, never half of one.
 */
export class ImportService {
  constructor(
    private readonly databaseUrl: string,
    private readonly database: DataSource,
    private readonly logger: Logger,
  ) {}

  /**
   * Drops the staging tables older than `maxAgeMs`: those of imports that never finished (their geo-service was
   * killed). A staging table's name says when it was made.
   */
  async sweepStaging(maxAgeMs: number): Promise<void> {
    const tables = (await this.database.query('SELECT tablename FROM pg_tables WHERE schemaname = $1', [STAGING_SCHEMA])) as { tablename: string }[];
    const stale = tables.map(({ tablename }) => tablename).filter((name) => Date.now() - (stagingTableMadeAt(name) ?? Date.now()) > maxAgeMs);
    for (const name of stale) await this.database.query(`DROP TABLE IF EXISTS ${STAGING_SCHEMA}.${quoteIdent(name)}`);
    if (stale.length > 0) this.logger.warn({ tables: stale }, 'dropped staging tables of imports that never finished');
  }

  /**
   * A `signal` that fires stops the import where it is (GDAL's connection is terminated, index builds are
   * cancelled), drops the staging table and rejects with the abort reason: the layer's table is left as it was.
   */
  async importLayer(source: OpenedSource, table: string, signal?: AbortSignal): Promise<ImportResult> {
    signal?.throwIfAborted();
    const recoveries: string[] = [];
    const srs = source.layer.srs;
    const reprojection = srs === null ? ['-a_srs', 'EPSG:4326'] : isWgs84(srs) ? ['-a_srs', 'EPSG:4326'] : ['-t_srs', 'EPSG:4326'];
    if (srs === null) recoveries.push('assume-epsg-4326');

    const attempts = this.attempts(source.layer.geomType);
    let lastError: unknown;
    for (const attempt of attempts) {
      const staging = stagingTableName();
      try {
        await this.translate(source, staging, attempt, reprojection, signal);
        const droppedFeatures = await this.cleanAndSwap(staging, table, signal);
        if (attempt.promoteToMulti) recoveries.push('promote-to-multi');
        if (attempt.latin1) recoveries.push('latin1');
        return { recoveries, droppedFeatures };
      } catch (error) {
        await this.database.query(`DROP TABLE IF EXISTS ${STAGING_SCHEMA}.${quoteIdent(staging)}`).catch(() => undefined);
        if (signal?.aborted) {
          // cancelled, not failed: no recovery is tried
          this.logger.info({ table, attempt }, 'import cancelled');
          signal.throwIfAborted();
        }
        lastError = error;
        this.logger.info({ table, attempt, err: (error as Error).message }, 'import attempt failed');
      }
    }
    const reason = (lastError as Error).message.replace(/\s+/g, ' ').trim();
    throw new LayerImportError(`could not import layer "${source.layer.name}" into PostGIS: ${reason}`, { cause: lastError });
  }

  /** First as it is; then promoted to multi-geometries (when that can help); then read as latin1. */
  private attempts(geometryType: number): ImportAttempt[] {
    const promote = SINGLE_TYPES.has(geometryType);
    const list: ImportAttempt[] = [{ promoteToMulti: false, latin1: false }];
    if (promote) list.push({ promoteToMulti: true, latin1: false });
    list.push({ promoteToMulti: promote, latin1: true });
    return list;
  }

  private async translate(source: OpenedSource, staging: string, attempt: ImportAttempt, reprojection: string[], signal?: AbortSignal): Promise<void> {
    // gdal-async offers no way to stop a running vectorTranslateAsync (its progress callback cannot ask GDAL to
    // stop), so a cancelled import ends GDAL's database session instead: its connection carries a name of its own,
    // by which the service's role may terminate its own backend, and GDAL fails at its next write.
    const applicationName = `${IMPORT_APPLICATION_NAME}-${staging}`;
    const libpq = pgConnectionString(this.databaseUrl, {
      application_name: applicationName,
      options: '-c synchronous_commit=off',
      ...(attempt.latin1 ? { client_encoding: 'LATIN1' } : {}),
    });
    const run = async () => {
      const destination = await gdal.openAsync(`PG:${libpq} schemas=${STAGING_SCHEMA}`, 'r+', ['PostgreSQL']);
      try {
        signal?.throwIfAborted();
        const args = [
          '-nln', staging,
          '-lco', `SCHEMA=${STAGING_SCHEMA}`,
          '-lco', `GEOMETRY_NAME=${GEOMETRY_COLUMN}`,
          '-lco', `FID=${FID_COLUMN}`,
          '-lco', 'SPATIAL_INDEX=NONE',
          '-lco', 'PRECISION=NO',
          '-gt', '65536',
          ...reprojection,
          ...(attempt.promoteToMulti ? ['-nlt', 'PROMOTE_TO_MULTI'] : []),
          source.layer.name,
        ];
        await stopOnAbort(gdal.vectorTranslateAsync(destination, source.dataset, args), signal, () =>
          this.database.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [applicationName]),
        );
      } finally {
        destination.close();
      }
    };
    await (attempt.latin1 ? withLatin1(run) : run());
  }

  /**
   * The index vector tiles are cut with: GiST on the Web Mercator expression the tile query filters on
   * (`ST_Transform(wkb_geometry, 3857)`), so a tile is an index scan with no extra column in the layer's fields.
   * Web Mercator ends at ±85.06°: features beyond it cannot be in any tile and are left out of this index (a
   * partial index, which the tile query's predicate matches), as are longitudes out of range, which ST_Transform
   * may refuse: the build never fails on a feature the cleaning deletes, whichever of the two goes first.
   */
  private webMercatorIndex(staging: string, stagingRef: string): string {
    const geometry = quoteIdent(GEOMETRY_COLUMN);
    return `CREATE INDEX ${quoteIdent(`${staging}_3857`)} ON ${stagingRef} USING gist (ST_Transform(${geometry}, ${WEB_MERCATOR}))
              WHERE ${webMercatorPredicate(geometry)}`;
  }

  /**
   * One index build in a transaction of its own, so its memory setting (SET LOCAL) goes with it even when the
   * build is cancelled, instead of staying on a pooled connection. A failed build is rolled back at once: its lock
   * would hold up the other connection's DELETE.
   */
  private async buildIndex(runner: QueryRunner, createIndex: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    await runner.startTransaction();
    try {
      await runner.query(`SET LOCAL maintenance_work_mem = '256MB'`);
      await runner.query(createIndex);
      await runner.commitTransaction();
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Deletes the features outside longitude/latitude range, scanned for only when the extent says there are some.
   * The extent is read from the root page of the plain GiST index, just built (PostGIS's ST_EstimatedExtent does
   * that when the column has one): its boxes are rounded outwards to float4, so an extent within range proves
   * every feature is, without a scan of the table. Without an answer from the index, the table is scanned.
   */
  private async dropOutOfRange(runner: QueryRunner, staging: string, signal?: AbortSignal): Promise<number> {
    const stagingRef = `${STAGING_SCHEMA}.${quoteIdent(staging)}`;
    const geometry = quoteIdent(GEOMETRY_COLUMN);
    signal?.throwIfAborted();
    const [extent] = (await runner.query(
      `SELECT ST_XMin(e) AS xmin, ST_YMin(e) AS ymin, ST_XMax(e) AS xmax, ST_YMax(e) AS ymax
         FROM (SELECT COALESCE(ST_EstimatedExtent($1, $2, $3), (SELECT ST_Extent(${geometry}) FROM ${stagingRef})) AS e) extent`,
      [STAGING_SCHEMA, staging, GEOMETRY_COLUMN],
    )) as { xmin: number | null; ymin: number | null; xmax: number | null; ymax: number | null }[];
    if (extent.xmin === null || (extent.xmin >= -180 && extent.ymin! >= -90 && extent.xmax! <= 180 && extent.ymax! <= 90)) return 0;
    signal?.throwIfAborted();
    const [deleted] = (await runner.query(
      `WITH deleted AS (
         DELETE FROM ${stagingRef} WHERE ${geometry} IS NOT NULL AND NOT
           (ST_XMin(${geometry}) >= -180 AND ST_XMax(${geometry}) <= 180 AND ST_YMin(${geometry}) >= -90 AND ST_YMax(${geometry}) <= 90)
         RETURNING 1)
       SELECT count(*)::int AS count FROM deleted`,
    )) as { count: number }[];
    return deleted.count;
  }

  /**
   * Builds the spatial indexes, drops features outside longitude/latitude range, then replaces the layer's table in
   * one transaction. An abort cancels the statement running on either connection and is checked between
   * statements; once the swap is committed the import is done.
   */
  private async cleanAndSwap(staging: string, table: string, signal?: AbortSignal): Promise<number> {
    const runner = this.database.createQueryRunner();
    const second = this.database.createQueryRunner();
    try {
      const pids: number[] = [];
      for (const connection of [runner, second]) {
        const [{ pid }] = (await connection.query('SELECT pg_backend_pid() AS pid')) as { pid: number }[];
        pids.push(pid);
      }
      return await stopOnAbort(this.cleanIndexSwap(runner, second, staging, table, signal), signal, () =>
        this.database.query('SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) AS pid', [pids]),
      );
    } catch (error) {
      // a failed rollback must not hide why the import stopped
      for (const connection of [runner, second]) if (connection.isTransactionActive) await connection.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await second.release();
      await runner.release();
    }
  }

  private async cleanIndexSwap(runner: QueryRunner, second: QueryRunner, staging: string, table: string, signal?: AbortSignal): Promise<number> {
    const stagingRef = `${STAGING_SCHEMA}.${quoteIdent(staging)}`;
    const geometry = quoteIdent(GEOMETRY_COLUMN);
    signal?.throwIfAborted();
    const geomIndex = `CREATE INDEX ${quoteIdent(`${staging}_geom`)} ON ${stagingRef} USING gist (${geometry})`;
    const mercatorIndex = this.webMercatorIndex(staging, stagingRef);
    // The Web Mercator index is the longest step after GDAL's (ST_Transform of every feature), so it starts at once
    // on the second connection, while the first builds the plain index and then looks for features out of lon/lat
    // range, which it deletes (the DELETE waits for the build's lock). Both sides are waited for, so a cancelled
    // build never outlives the import.
    const [cleaning, mercator] = await Promise.allSettled([
      (async () => {
        await this.buildIndex(runner, geomIndex, signal);
        return this.dropOutOfRange(runner, staging, signal);
      })(),
      this.buildIndex(second, mercatorIndex, signal),
    ]);
    if (cleaning.status === 'rejected') throw cleaning.reason;
    if (mercator.status === 'rejected') throw mercator.reason;
    const dropped = cleaning.value;

    signal?.throwIfAborted();
    await runner.startTransaction();
    await runner.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${LAYERS_SCHEMA}.${table}`]);
    await runner.query(`DROP TABLE IF EXISTS ${LAYERS_SCHEMA}.${quoteIdent(table)} CASCADE`);
    // the table's indexes and its FID sequence move with it
    await runner.query(`ALTER TABLE ${stagingRef} SET SCHEMA ${LAYERS_SCHEMA}`);
    await runner.query(`ALTER TABLE ${LAYERS_SCHEMA}.${quoteIdent(staging)} RENAME TO ${quoteIdent(table)}`);
    const indexes = (await runner.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2`, [
      LAYERS_SCHEMA,
      table,
    ])) as { indexname: string }[];
    for (const { indexname } of indexes.filter(({ indexname }) => indexname.startsWith(staging))) {
      await runner.query(`ALTER INDEX ${LAYERS_SCHEMA}.${quoteIdent(indexname)} RENAME TO ${quoteIdent(table + indexname.slice(staging.length))}`);
    }
    const sequences = (await runner.query(`SELECT sequencename FROM pg_sequences WHERE schemaname = $1 AND sequencename LIKE $2`, [
      LAYERS_SCHEMA,
      `${staging}%`,
    ])) as { sequencename: string }[];
    for (const { sequencename } of sequences) {
      await runner.query(
        `ALTER SEQUENCE ${LAYERS_SCHEMA}.${quoteIdent(sequencename)} RENAME TO ${quoteIdent(table + sequencename.slice(staging.length))}`,
      );
    }
    // the last moment a cancel can still leave the old layer in place
    signal?.throwIfAborted();
    await runner.commitTransaction();
    return dropped;
  }
}
