import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type QueryRunner } from 'typeorm';
import { LAYER_GEOMETRY_COLUMN as GEOMETRY_COLUMN, LAYERS_SCHEMA, WEB_MERCATOR, webMercatorPredicate, quoteIdent } from '#shared';
import { LayerImportError } from './geopreview.errors.js';
import { STAGING_SCHEMA } from './layer-name.js';
import { stopOnAbort } from './stop-on-abort.js';

/** `stg_<milliseconds since 1970, base 36>_<random>`: unique, and telling when the import began. */
export const stagingTableName = (): string => `stg_${Date.now().toString(36)}_${randomBytes(6).toString('hex')}`;
const stagingTableMadeAt = (name: string): number | undefined => {
  const match = /^stg_([0-9a-z]+)_[0-9a-f]+$/.exec(name);
  return match ? parseInt(match[1], 36) : undefined;
};

/**
 * The SQL of the staging tables an import writes into (in STAGING_SCHEMA): indexes them, cleans them and swaps one
 * in for the layer's table in one transaction, so a reader sees the old layer or the new one, never half of one;
 * drops those of imports that failed or never finished.
 */
@Injectable()
export class StagingTablesRepository {
  constructor(@Inject(DataSource) private readonly database: DataSource) {}

  async drop(staging: string): Promise<void> {
    await this.database.query(`DROP TABLE IF EXISTS ${STAGING_SCHEMA}.${quoteIdent(staging)}`);
  }

  /**
   * Drops the staging tables older than `maxAgeMs`: those of imports that never finished (their geo-service was
   * killed). A staging table's name says when it was made. Returns the names of the tables dropped.
   */
  async sweep(maxAgeMs: number): Promise<string[]> {
    const tables = await this.database.query<{ tablename: string }[]>('SELECT tablename FROM pg_tables WHERE schemaname = $1', [STAGING_SCHEMA]);
    const stale = tables.map(({ tablename }) => tablename).filter((name) => Date.now() - (stagingTableMadeAt(name) ?? Date.now()) > maxAgeMs);
    for (const name of stale) await this.drop(name);
    return stale;
  }

  /**
   * Builds the spatial indexes, drops features outside longitude/latitude range, then replaces the layer's table in
   * one transaction; returns how many features were dropped. An abort cancels the statement running on either
   * connection and is checked between statements; once the swap is committed the import is done.
   */
  async cleanAndSwap(staging: string, table: string, signal?: AbortSignal): Promise<number> {
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
    // nothing left to preview: refused before the swap, so a layer previewed before stays as it was
    const [{ kept }] = (await runner.query(`SELECT EXISTS (SELECT 1 FROM ${stagingRef} WHERE ${geometry} IS NOT NULL) AS kept`)) as { kept: boolean }[];
    if (!kept) {
      const why = dropped > 0 ? `; ${dropped.toLocaleString('en-US')} features were outside longitude/latitude range and were dropped` : '';
      throw new LayerImportError(`no feature of the layer has a geometry within longitude/latitude range${why}: there is nothing to preview`);
    }

    signal?.throwIfAborted();
    await runner.startTransaction();
    await runner.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${LAYERS_SCHEMA}.${table}`]);
    await runner.query(`DROP TABLE IF EXISTS ${LAYERS_SCHEMA}.${quoteIdent(table)} CASCADE`);
    // the table's indexes and its FID sequence move with it
    await runner.query(`ALTER TABLE ${stagingRef} SET SCHEMA ${LAYERS_SCHEMA}`);
    await runner.query(`ALTER TABLE ${LAYERS_SCHEMA}.${quoteIdent(staging)} RENAME TO ${quoteIdent(table)}`);
    const indexes = (await runner.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2`, [LAYERS_SCHEMA, table])) as {
      indexname: string;
    }[];
    for (const { indexname } of indexes.filter(({ indexname }) => indexname.startsWith(staging))) {
      await runner.query(`ALTER INDEX ${LAYERS_SCHEMA}.${quoteIdent(indexname)} RENAME TO ${quoteIdent(table + indexname.slice(staging.length))}`);
    }
    const sequences = (await runner.query(`SELECT sequencename FROM pg_sequences WHERE schemaname = $1 AND sequencename LIKE $2`, [
      LAYERS_SCHEMA,
      `${staging}%`,
    ])) as { sequencename: string }[];
    for (const { sequencename } of sequences) {
      await runner.query(`ALTER SEQUENCE ${LAYERS_SCHEMA}.${quoteIdent(sequencename)} RENAME TO ${quoteIdent(table + sequencename.slice(staging.length))}`);
    }
    // the last moment a cancel can still leave the old layer in place
    signal?.throwIfAborted();
    await runner.commitTransaction();
    return dropped;
  }
}
