/**
 * What a geopreview that never finished leaves (its geo-service was killed mid-import, or between sharing an upload
 * and its fan-out) is removed by the next geo-service to start: staging tables and shared uploads older than a day.
 * Those of geopreviews under way are left alone.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { createTestContext, type TestContext } from '../harness/context.js';
import { startService, storageDir, type RunningService } from '../harness/services.js';

const DAY_MS = 24 * 3_600_000;

describe('geo-service sweeps away what unfinished geopreviews left', () => {
  let context: TestContext;
  let admin: pg.Client;
  let service: RunningService | undefined;

  beforeAll(async () => {
    context = await createTestContext();
    admin = new pg.Client({ connectionString: context.databaseUrls.admin });
    await admin.connect();
  });

  afterAll(async () => {
    await service?.stop();
    await admin?.end();
    await context?.dispose();
  });

  const stagingTables = async () =>
    (await admin.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'layers_staging' ORDER BY 1`)).rows.map(
      (row) => row.tablename,
    );

  it('drops staging tables and removes shared uploads older than a day, at start', async () => {
    const stamp = (msAgo: number) => (Date.now() - msAgo).toString(36);
    const oldTable = `stg_${stamp(DAY_MS + 3_600_000)}_0123456789ab`;
    const recentTable = `stg_${stamp(60_000)}_0123456789ab`;
    for (const table of [oldTable, recentTable]) await admin.query(`CREATE TABLE layers_staging.${table} (ogc_fid serial PRIMARY KEY)`);

    const shared = join(storageDir(context), 'geopreview');
    const [oldJob, recentJob] = [randomUUID(), randomUUID()];
    for (const job of [oldJob, recentJob]) {
      await mkdir(join(shared, job), { recursive: true });
      await writeFile(join(shared, job, 'upload.gpkg'), 'layers');
    }
    const twoDaysAgo = new Date(Date.now() - 2 * DAY_MS);
    await utimes(join(shared, oldJob, 'upload.gpkg'), twoDaysAgo, twoDaysAgo);

    service = await startService('geo-service', context); // ready once it has swept
    expect(await stagingTables()).toEqual([recentTable]);
    const left = async () => (await readdir(shared, { recursive: true })).filter((name) => name.endsWith('.gpkg')).sort();
    expect(await left()).toEqual([join(recentJob, 'upload.gpkg')]);
    expect(await readdir(shared)).toEqual([recentJob]); // the old job's folder goes whole
  });
});
