import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { waitFor } from '../../libs/testing/src/index.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { Client } from '../harness/http.js';
import { waitForJob, type Job } from '../harness/jobs.js';
import { startService, storageDir, type RunningService } from '../harness/services.js';
import { makeLayer } from './layers-support.js';

/** Every file under a folder (none when it does not exist). */
const filesUnder = async (folder: string): Promise<string[]> =>
  (await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => [])).filter((entry) => entry.isFile()).map((entry) => entry.name);

describe('export.layers: cancelled or past its deadline, an export stops and leaves nothing behind (real services)', () => {
  let context: TestContext;
  let gateway: RunningService;
  let exporter: RunningService;
  let admin: Client;
  let geo: pg.Client;
  let scratch: string;

  const startExporter = (env: Record<string, string> = {}) => startService('export-service', context, { GEOJOBS_EXPORT_SCRATCH_DIR: scratch, ...env });

  beforeAll(async () => {
    context = await createTestContext();
    scratch = await mkdtemp(join(tmpdir(), 'geojobs-layers-scratch-'));
    geo = new pg.Client({ connectionString: context.databaseUrls.geo });
    await geo.connect();
    // big enough that the four formats take several seconds on a loaded 2-core machine
    await makeLayer(
      geo,
      'pre_big',
      'id integer, name varchar, value double precision',
      `INSERT INTO $table (wkb_geometry, id, name, value)
         SELECT ST_SetSRID(ST_MakePoint(random() * 360 - 180, random() * 170 - 85), 4326), i, 'feature ' || i, random() FROM generate_series(1, 600000) i`,
    );
    await makeLayer(geo, 'pre_small', 'id integer', `INSERT INTO $table (wkb_geometry, id) VALUES ('SRID=4326;POINT(1 2)', 1)`);
    exporter = await startExporter();
    gateway = await startService('gateway', context);
    admin = await Client.admin(gateway);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([gateway, exporter].map((service) => service?.stop()));
    await geo?.end();
    await context?.dispose();
  });

  const nothingLeft = async () => {
    // the partial ZIP (local storage writes it aside, under .partial) and the job's scratch folder both go
    await waitFor(
      async () => (await filesUnder(storageDir(context))).filter((name) => (name.endsWith('.zip') && name !== 'after.zip') || !name.includes('.')).length === 0,
      'storage to hold no ZIP',
      {
        timeoutMs: 20_000,
      },
    );
    await waitFor(async () => (await filesUnder(scratch)).length === 0, 'the scratch folder to be empty', { timeoutMs: 20_000 });
  };

  it('cancelled mid-export: the job is cancelled, no ZIP or partial file is left, and the service runs on', async () => {
    const reply = await admin.post<Job>('/exports', { kind: 'layers', layers: ['pre_big'], name: 'cancelled' });
    expect(reply.status).toBe(202);
    await waitForJob(admin, reply.body.id, (job) => job.state === 'running' && /rows/.test(job.progress.message), { what: 'rows to be written' });
    expect((await admin.post(`/jobs/${reply.body.id}/cancel`, {})).status).toBeLessThan(300);
    const job = await waitForJob(admin, reply.body.id);
    expect(job.state).toBe('cancelled');
    await nothingLeft();

    const next = await admin.post<Job>('/exports', { kind: 'layers', layers: ['pre_small'], formats: ['csv'], name: 'after' });
    expect((await waitForJob(admin, next.body.id)).state).toBe('succeeded');
  }, 120_000);

  it('past GEOJOBS_EXPORT_DEADLINE_SECONDS: fails saying so, leaving nothing behind', async () => {
    await exporter.stop();
    exporter = await startExporter({ GEOJOBS_EXPORT_DEADLINE_SECONDS: '2' });
    const reply = await admin.post<Job>('/exports', { kind: 'layers', layers: ['pre_big'], name: 'late' });
    const job = await waitForJob(admin, reply.body.id, undefined, { timeoutMs: 60_000 });
    expect(job.state).toBe('failed');
    expect(job.error!.message).toBe('the export did not finish within 2 s');
    await nothingLeft();
  }, 120_000);
});
