import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { waitFor } from '../../libs/testing/src/index.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { infra, infraEnv, ROOT, separatePostgres } from '../harness/global-setup.js';
import { Client } from '../harness/http.js';
import { submitJob, waitForJob, type Job } from '../harness/jobs.js';
import { startService, storageDir, type RunningService } from '../harness/services.js';

/** A PostgreSQL of this file's own, since stopping the shared one would disturb the other test files. */
const PG_ENV = separatePostgres('pg-outage');

describe('the gateway while PostgreSQL restarts: 503 with a clear error, then back without a restart (real servers)', () => {
  let context: TestContext;
  const services: RunningService[] = [];
  let admin: Client;
  let gateway: RunningService;

  beforeAll(async () => {
    infra(['up', 'postgres'], PG_ENV);
    const pg = infraEnv(PG_ENV);
    execFileSync('node', ['dist/scripts/migrate.js'], {
      cwd: ROOT,
      env: { ...process.env, GEOJOBS_ADMIN_DATABASE_URL: pg.GEOJOBS_ADMIN_DATABASE_URL },
      stdio: 'ignore',
    });
    const shared = await createTestContext(); // its vhost and storage; the databases are the separate server's
    context = { ...shared, databaseUrls: { ...shared.databaseUrls, gateway: pg.GEOJOBS_GATEWAY_DATABASE_URL, export: pg.GEOJOBS_EXPORT_DATABASE_URL } };
    gateway = await startService('gateway', context);
    services.push(gateway, await startService('export-service', context));
    admin = await Client.admin(gateway);
  });

  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await context?.dispose();
    if (context) await rm(storageDir(context), { recursive: true, force: true });
    infra(['down', 'postgres'], PG_ENV);
  });

  it('answers 503 with Retry-After and a readable message while the database is down, and recovers by itself', async () => {
    const before = await submitJob(admin, { type: 'noop', input: { service: 'export' } });
    await waitForJob(admin, before.id, 'succeeded');

    infra(['down', 'postgres'], PG_ENV);
    const down = await admin.get<{ statusCode: number; message: string }>('/jobs');
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect(down.body.message).toBe('the database is unavailable for the moment; try again in a few seconds');
    expect((await admin.post('/jobs', { type: 'noop', input: { service: 'export' } })).status).toBe(503);
    // an API key is looked up in the database by the guard: the same clear answer, not a 401 or a 500
    expect((await admin.as('ApiKey some-key').get('/jobs')).status).toBe(503);
    expect((await admin.get('/health')).status).toBe(503);

    infra(['up', 'postgres'], PG_ENV);
    await waitFor(async () => (await admin.get('/jobs')).status === 200, 'the gateway to answer again', { timeoutMs: 30_000, intervalMs: 200 });
    const after = await submitJob(admin, { type: 'noop', input: { service: 'export' } });
    const done = await waitForJob<Record<string, unknown>>(admin, after.id, 'succeeded', { timeoutMs: 60_000 });
    expect(done.state).toBe('succeeded');
    // the same gateway process throughout
    expect(gateway.process.exitCode).toBeNull();
    expect(((await admin.get<Job[]>('/jobs?limit=10')).body ?? []).map((job) => job.id)).toEqual(expect.arrayContaining([before.id, after.id]));
  });
});
