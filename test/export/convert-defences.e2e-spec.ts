import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../libs/testing/src/index.js';
import { FileServer } from '../geo/geo-files.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { Client } from '../harness/http.js';
import { waitForJob, type Job } from '../harness/jobs.js';
import { startService, storageDir, type RunningService } from '../harness/services.js';
import { bigGeoPackage, makeFixtures, zipBomb } from './convert-fixtures.js';

/** Rows of the table a cancel stops half-way. */
const BIG_ROWS = 600_000;

describe('export.convert refuses bad inputs and stops when cancelled, leaving nothing behind (real services, RabbitMQ, PostgreSQL)', () => {
  let context: TestContext;
  let gateway: RunningService;
  let exporter: RunningService;
  let admin: Client;
  let scratch: string;
  const files = new FileServer();

  beforeAll(async () => {
    context = await createTestContext();
    await files.start();
    const folder = await mkdtemp(join(tmpdir(), 'geojobs-convert-defences-'));
    const fixtures = await makeFixtures(join(folder, 'f'));
    await bigGeoPackage(join(folder, 'big.gpkg'), BIG_ROWS);
    files.routes.set('/data/several.gpkg', fixtures.gpkg);
    files.routes.set('/data/page.html', '<!doctype html><html><body>not a database</body></html>');
    files.routes.set('/data/truncated.gpkg', fixtures.gpkg.subarray(0, Math.floor(fixtures.gpkg.length / 3)));
    files.routes.set('/data/bomb.zip', zipBomb(50));
    files.routes.set('/data/big.gpkg', await readFile(join(folder, 'big.gpkg')));
    scratch = await mkdtemp(join(tmpdir(), 'geojobs-convert-scratch-'));
    exporter = await startService('export-service', context, { GEOJOBS_ALLOWED_HOSTS: '127.0.0.1', GEOJOBS_EXPORT_SCRATCH_DIR: scratch });
    gateway = await startService('gateway', context);
    admin = await Client.admin(gateway);
  });

  afterAll(async () => {
    await Promise.all([gateway, exporter].map((service) => service?.stop()));
    await files.close();
    await context?.dispose();
  });

  const submit = async (input: Record<string, unknown>): Promise<Job> => {
    const reply = await admin.post<Job>('/exports', { kind: 'convert', ...input });
    expect({ status: reply.status, body: reply.body }).toMatchObject({ status: 202 });
    return reply.body;
  };

  /** The job fails with a message matching `message`, and neither its ZIP nor its scratch folder is left. */
  const expectRefused = async (input: Record<string, unknown>, message: string | RegExp): Promise<void> => {
    const job = await waitForJob(admin, (await submit(input)).id, 'failed', { timeoutMs: 60_000 });
    expect(job.error).toMatchObject({ type: 'export', message: typeof message === 'string' ? message : expect.stringMatching(message) });
    expect(existsSync(join(storageDir(context), 'convert', job.id))).toBe(false);
    expect(await readdir(scratch)).toEqual([]);
  };

  it('refuses a file that is not a database, naming what it converts', async () => {
    await expectRefused(
      { uri: files.url('/data/page.html') },
      /^"page\.html" is not a database geojobs can convert \(GeoPackage, SQLite, FileGDB, Shapefile zip, Firebird \.fbk\/\.fdb\)$/,
    );
  });

  it('refuses a truncated GeoPackage', async () => {
    await expectRefused({ uri: files.url('/data/truncated.gpkg') }, /^the SQLite database is truncated: \d+ bytes of the \d+ its header declares$/);
  });

  it('refuses a table the database does not hold, naming the ones it holds', async () => {
    await expectRefused(
      { uri: files.url('/data/several.gpkg'), tables: ['roads', 'lakes'] },
      'the database has no table "lakes"; its tables are "roads", "Lugares \\"SP\\" / Rio", "notes"',
    );
  });

  it('refuses a zip bomb before expanding it', async () => {
    await expectRefused({ uri: files.url('/data/bomb.zip') }, /^the archive expands \d+ times its size, over the limit of 200$/);
  });

  it('stops a convert cancelled mid-table within seconds, and removes its scratch and partial ZIP', async () => {
    const job = await submit({ uri: files.url('/data/big.gpkg') });
    const running = await waitForJob(admin, job.id, (current) => /: [1-9][\d,]* rows$/.test(current.progress.message), {
      timeoutMs: 60_000,
      what: 'rows of the big table to be written',
    });
    expect(running.progress).toMatchObject({ current: 0, total: 1 });
    expect(running.progress.message).toMatch(/^table 1 of 1, "big": /);
    const cancelledAt = Date.now();
    expect((await admin.post(`/jobs/${job.id}/cancel`)).status).toBeLessThan(300);
    await waitForJob(admin, job.id, 'cancelled', { timeoutMs: 15_000 });
    // the job is marked at once; the service's work stops within seconds, and then its files are gone
    await waitFor(async () => (await readdir(scratch)).length === 0, 'the scratch folder to be emptied', { timeoutMs: 10_000 });
    expect(Date.now() - cancelledAt).toBeLessThan(10_000);
    expect(existsSync(join(storageDir(context), 'convert', job.id))).toBe(false);
    // and the service goes on: the next export runs
    const next = await waitForJob(admin, (await submit({ uri: files.url('/data/several.gpkg'), tables: ['notes'] })).id, 'succeeded');
    expect(next.result).toMatchObject({ tables: [{ name: 'notes', rows: 2 }] });
  });
});
