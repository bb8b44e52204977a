import { rm } from 'node:fs/promises';
import pg from 'pg';
import { createTestContext, type TestContext } from '../harness/context.js';
import { Client } from '../harness/http.js';
import type { Job } from '../harness/jobs.js';
import { startService, storageDir, type RunningService } from '../harness/services.js';

interface Refusal {
  statusCode: number;
  message: string[];
}

/** What the gateway itself checks of an export before any service sees it (no export-service runs here). */
describe('POST /exports: validation at the gateway (real gateway and PostgreSQL)', () => {
  let context: TestContext;
  let gateway: RunningService;
  let admin: Client;

  beforeAll(async () => {
    context = await createTestContext();
    // a previewed layer, as geo-service leaves one
    const db = new pg.Client({ connectionString: context.databaseUrls.admin });
    await db.connect();
    await db.query('CREATE TABLE layers.pre_roads_0 (ogc_fid serial PRIMARY KEY, name text, wkb_geometry geometry(Point, 4326))');
    await db.end();
    gateway = await startService('gateway', context);
    admin = await Client.admin(gateway);
  });

  afterAll(async () => {
    await gateway?.stop();
    await context?.dispose();
    if (context) await rm(storageDir(context), { recursive: true, force: true });
  });

  it('takes an export of existing layers as an export.layers job (202), and the same again as the same job (200)', async () => {
    const created = await admin.post<Job>('/exports', { kind: 'layers', layers: ['pre_roads_0'], formats: ['csv', 'gpkg'], name: 'roads' });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ type: 'export.layers', state: 'queued', input: { layers: ['pre_roads_0'], formats: ['csv', 'gpkg'], name: 'roads' } });
    const again = await admin.post<Job>('/exports', { kind: 'layers', name: 'roads', formats: ['csv', 'gpkg'], layers: ['pre_roads_0'] });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(created.body.id);
  });

  it('refuses an unknown layer, naming it, through /exports and /jobs alike', async () => {
    const refused = await admin.post<Refusal>('/exports', { kind: 'layers', layers: ['pre_roads_0', 'pre_gone_1'] });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toEqual(['input.layers: no layer pre_gone_1']);
    const viaJobs = await admin.post<Refusal>('/jobs', [
      { type: 'noop', input: { service: 'export' } },
      { type: 'export.layers', input: { layers: ['pre_gone_2'] } },
    ]);
    expect(viaJobs.status).toBe(400);
    expect(viaJobs.body.message).toEqual(['[1].input.layers: no layer pre_gone_2']);
  });

  it('refuses a format that is not one of the four, an unknown kind, and an unknown charset listing examples', async () => {
    const format = await admin.post<Refusal>('/exports', { kind: 'layers', layers: ['pre_roads_0'], formats: ['csv', 'xlsx'] });
    expect(format.status).toBe(400);
    expect(format.body.message.join(' ')).toMatch(/formats.*csv, shp, gpkg, geojson/);

    const kind = await admin.post<Refusal>('/exports', { kind: 'everything' });
    expect(kind.status).toBe(400);
    expect(kind.body.message).toEqual(['kind must be one of: layers, dataset, convert']);

    const charset = await admin.post<Refusal>('/exports', { kind: 'convert', uri: 'https://files.example.org/BACKUP.GDB', charset: 'klingon' });
    expect(charset.status).toBe(400);
    expect(charset.body.message.join(' ')).toMatch(/charset must be one iconv-lite knows, e\.g\. utf-8, latin1, windows-1252/);

    const layerId = await admin.post<Refusal>('/exports', { kind: 'layers', layers: ['roads; DROP TABLE x'] });
    expect(layerId.status).toBe(400);
  });

  it('keeps the subtasks a dataset export fans out to for export-service: POST /jobs refuses them', async () => {
    const refused = await admin.post<Refusal>('/jobs', { type: 'export.resource', input: {} });
    expect(refused.status).toBe(400);
    expect(refused.body.message[0]).toMatch(/^type must be one of: .*export\.layers, export\.dataset, export\.convert/);
  });
});
