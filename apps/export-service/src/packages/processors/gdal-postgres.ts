import { randomUUID } from 'node:crypto';
import gdal from 'gdal-async';
import type { DataSource } from 'typeorm';
import { libpqConnectionString } from '#shared';

/**
 * Runs `work` with a GDAL dataset on PostgreSQL. gdal-async cannot stop a running translation, so a cancelled job
 * ends GDAL's database session instead (its connection carries a name of its own, by which the service's role may
 * terminate its own backend): GDAL then fails at its next read and the work rejects with the abort reason.
 */
export async function withPostgresDataset<T>(
  databaseUrl: string,
  database: DataSource,
  signal: AbortSignal,
  work: (dataset: gdal.Dataset) => Promise<T>,
): Promise<T> {
  const applicationName = `geojobs-package-${randomUUID()}`;
  const dataset = await gdal.openAsync(`PG:${libpqConnectionString(databaseUrl, { application_name: applicationName })}`, 'r', ['PostgreSQL']);
  const stop = () =>
    void database.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [applicationName]).catch(() => undefined);
  signal.addEventListener('abort', stop, { once: true });
  try {
    return await work(dataset);
  } catch (error) {
    signal.throwIfAborted();
    throw error;
  } finally {
    signal.removeEventListener('abort', stop);
    dataset.close();
  }
}
