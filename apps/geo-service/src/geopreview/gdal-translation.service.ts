import gdal from 'gdal-async';
import type { DataSource } from 'typeorm';
import { LAYER_FID_COLUMN as FID_COLUMN, LAYER_GEOMETRY_COLUMN as GEOMETRY_COLUMN, libpqConnectionString } from '#shared';
import { STAGING_SCHEMA } from './layer-name.js';
import type { OpenedSource } from './source.service.js';
import { stopOnAbort } from './stop-on-abort.js';

/** The recoveries a real portal needs, applied one by one when an import fails (HDX's problem solver). */
export interface ImportAttempt {
  promoteToMulti: boolean;
  latin1: boolean;
}

/** Prefix of the `application_name` of GDAL's connections, so an import's backend can be found (and stopped). */
export const IMPORT_APPLICATION_NAME = 'geojobs-import';

const SINGLE_TYPES = new Set([
  gdal.wkbPoint,
  gdal.wkbLineString,
  gdal.wkbPolygon,
  gdal.wkbPoint25D,
  gdal.wkbLineString25D,
  gdal.wkbPolygon25D,
  gdal.wkbUnknown,
]);

/** Whether promoting to multi-geometries can help a layer of this geometry type (mixed single and multi features). */
export const canPromoteToMulti = (geometryType: number): boolean => SINGLE_TYPES.has(geometryType);

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
    if (--latin1Imports === 0) gdal.config.set('PGCLIENTENCODING', null);
  }
};

const isWgs84 = (srs: gdal.SpatialReference): boolean => {
  try {
    srs.autoIdentifyEPSG();
  } catch {
    // not identifiable: compared by name below
  }
  return srs.getAuthorityName(null) === 'EPSG' && srs.getAuthorityCode(null) === '4326';
};

/** ogr2ogr's arguments that bring a layer to EPSG:4326: assigned when it has no SRS or already is, else reprojected. */
export const reprojectionTo4326 = (srs: gdal.SpatialReference | null): string[] =>
  srs === null || isWgs84(srs) ? ['-a_srs', 'EPSG:4326'] : ['-t_srs', 'EPSG:4326'];

/**
 * Copies one layer into a new table of STAGING_SCHEMA in process with GDAL's ogr2ogr library (COPY, one
 * transaction per 64k rows), with no spatial index: the staging tables' SQL (indexes, cleaning, swap) comes after.
 */
export class GdalTranslationService {
  constructor(
    private readonly databaseUrl: string,
    private readonly database: DataSource,
  ) {}

  /** A `signal` that fires ends GDAL's session: the translation then rejects with the abort reason. */
  async translate(source: OpenedSource, staging: string, attempt: ImportAttempt, reprojection: string[], signal?: AbortSignal): Promise<void> {
    // gdal-async offers no way to stop a running vectorTranslateAsync (its progress callback cannot ask GDAL to
    // stop), so a cancelled import ends GDAL's database session instead: its connection carries a name of its own,
    // by which the service's role may terminate its own backend, and GDAL fails at its next write.
    const applicationName = `${IMPORT_APPLICATION_NAME}-${staging}`;
    const libpq = libpqConnectionString(this.databaseUrl, {
      application_name: applicationName,
      options: '-c synchronous_commit=off',
      ...(attempt.latin1 ? { client_encoding: 'LATIN1' } : {}),
    });
    const run = async () => {
      const destination = await gdal.openAsync(`PG:${libpq} schemas=${STAGING_SCHEMA}`, 'r+', ['PostgreSQL']);
      try {
        signal?.throwIfAborted();
        const args = [
          '-nln',
          staging,
          '-lco',
          `SCHEMA=${STAGING_SCHEMA}`,
          '-lco',
          `GEOMETRY_NAME=${GEOMETRY_COLUMN}`,
          '-lco',
          `FID=${FID_COLUMN}`,
          '-lco',
          'SPATIAL_INDEX=NONE',
          '-lco',
          'PRECISION=NO',
          '-gt',
          '65536',
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
}
