/**
 * A cancelled job's import stops where it is, against the real PostGIS: GDAL's session is ended mid-COPY, an index
 * build is cancelled, nothing half-imported stays behind, and the layer's existing table keeps its rows.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { pino } from 'pino';
import { DataSource } from 'typeorm';
import { GdalTranslationService, IMPORT_APPLICATION_NAME } from '../../apps/geo-service/src/geopreview/gdal-translation.service.js';
import { ImportService } from '../../apps/geo-service/src/geopreview/import.service.js';
import { SourceService, type SourceLayer } from '../../apps/geo-service/src/geopreview/source.service.js';
import { StagingTablesRepository } from '../../apps/geo-service/src/geopreview/staging-tables.repository.js';
import { pointsFile, waitFor } from '../../libs/testing/src/index.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { geojson } from './geo-files.js';

const BIG_FEATURES = 300_000;
const TABLE = 'pre_abort';

describe('a cancelled import stops at once and leaves the layer as it was', () => {
  let context: TestContext;
  let database: DataSource;
  let admin: pg.Client;
  let folder: string;
  let big: SourceLayer[];
  let small: SourceLayer[];
  const logs: string[] = [];
  let imports: ImportService;
  /** How long the big layer takes to import whole, on this machine at this moment. */
  let wholeImportMs: number;
  /**
   * How soon a cancelled import must have rejected: 2 s at most, and well before the import could have ended on
   * its own (which it would, and then reject, if the abort did not stop anything). Half the whole import, not less:
   * on a busy machine the rollback after the cancel is slow too (a quarter failed once in CI with 868 ms of 3.1 s).
   */
  const promptly = () => Math.min(2_000, wholeImportMs / 2);

  const query = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => (await admin.query(sql, params)).rows as T[];
  const stagingTables = () => query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'layers_staging'`);
  const importBackends = () =>
    query<{ pid: number; state: string }>(`SELECT pid, state FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE $1`, [
      `${IMPORT_APPLICATION_NAME}-%`,
    ]);
  const oldRows = () => query<{ name: string }>(`SELECT name FROM layers.${TABLE} ORDER BY name`);

  /** Aborts once `ready` says the import is where the test wants it; resolves with how long the rejection took after that. */
  const abortWhen = async (ready: () => Promise<boolean>, delayMs: number) => {
    const controller = new AbortController();
    const reason = new Error('job cancelled');
    const running = imports.importLayer(big[0], TABLE, controller.signal);
    const outcome = running.then(
      () => ({ rejected: false as const, at: performance.now() }),
      (error: unknown) => ({ rejected: true as const, error, at: performance.now() }),
    );
    // asked often: an index build is over in moments
    await waitFor(ready, 'the import to get there', { intervalMs: 10 });
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    const abortedAt = performance.now();
    controller.abort(reason);
    const settled = await outcome;
    return { ...settled, reason, afterAbortMs: settled.at - abortedAt };
  };

  beforeAll(async () => {
    context = await createTestContext();
    admin = new pg.Client({ connectionString: context.databaseUrls.admin });
    await admin.connect();
    database = new DataSource({ type: 'postgres', url: context.databaseUrls.geo, synchronize: false, extra: { max: 10 } });
    await database.initialize();
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (logs.push(chunk.toString()), done()) });
    const logger = pino({ level: 'info' }, sink);
    imports = new ImportService(new GdalTranslationService(context.databaseUrls.geo, database), new StagingTablesRepository(database), logger);

    folder = await mkdtemp(join(tmpdir(), 'geojobs-import-abort-'));
    const { path } = await pointsFile(folder, BIG_FEATURES);
    await writeFile(join(folder, 'small.geojson'), geojson());
    const sources = new SourceService();
    big = await sources.openAll([path], folder);
    small = await sources.openAll([join(folder, 'small.geojson')], folder);
    const start = performance.now();
    await imports.importLayer(big[0], 'pre_whole');
    wholeImportMs = performance.now() - start;
    expect((await query<{ count: number }>('SELECT count(*)::int AS count FROM layers.pre_whole'))[0].count).toBe(BIG_FEATURES);
  });

  afterAll(async () => {
    if (big) SourceService.closeAll(big);
    if (small) SourceService.closeAll(small);
    await database?.destroy();
    await admin?.end();
    await context?.dispose();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  beforeEach(async () => {
    // the layer as a previous import left it
    await imports.importLayer(small[0], TABLE);
    logs.length = 0;
  });

  afterEach(async () => {
    expect(await stagingTables()).toEqual([]);
    expect((await oldRows()).map((row) => row.name)).toEqual(['Berlin', 'London', 'Paris']);
    expect(await importBackends()).toEqual([]);
    // a cancelled import tries no recovery (promote-to-multi, latin1) after the abort
    expect(logs.filter((line) => line.includes('import attempt failed'))).toEqual([]);
  });

  it('ends GDAL mid-COPY: the promise rejects with the abort reason at once, the staging table is dropped', async () => {
    const result = await abortWhen(async () => (await stagingTables()).length > 0, 300);
    expect(result).toMatchObject({ rejected: true, error: result.reason });
    expect(result.afterAbortMs).toBeLessThan(promptly());
    expect(logs.some((line) => line.includes('import cancelled'))).toBe(true);
    // GDAL really stopped: nothing comes back a moment later
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await stagingTables()).toEqual([]);
    expect(await importBackends()).toEqual([]);
  });

  it('cancels a running index build the same way', async () => {
    const building = async () =>
      (await query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'CREATE INDEX%' AND state = 'active'`)).length > 0;
    const result = await abortWhen(building, 0);
    expect(result).toMatchObject({ rejected: true, error: result.reason });
    expect(result.afterAbortMs).toBeLessThan(promptly());
    const indexBuilds = await query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'CREATE INDEX%' AND state = 'active'`);
    expect(indexBuilds).toEqual([]);
  });

  it('does not start when the signal has already fired', async () => {
    const reason = new Error('cancelled before it started');
    await expect(imports.importLayer(big[0], TABLE, AbortSignal.abort(reason))).rejects.toBe(reason);
  });
});
