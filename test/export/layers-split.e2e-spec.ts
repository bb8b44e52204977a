import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import pg from 'pg';
import { createTestContext, type TestContext } from '../harness/context.js';
import { Client } from '../harness/http.js';
import { waitForJob, type Job } from '../harness/jobs.js';
import { startService, storageDir, type RunningService } from '../harness/services.js';
import { makeLayer, unzip } from './layers-support.js';

interface ExportResult {
  file: string;
  files: { name: string; layer: string; format: string; features: number }[];
}

/** Small enough that 500 points need a dozen shapefile parts. */
const LIMIT = 4_096;

describe('export.layers: a layer over the shapefile limit is split into parts, each under it (real services)', () => {
  let context: TestContext;
  let gateway: RunningService;
  let exporter: RunningService;
  let admin: Client;
  let geo: pg.Client;

  beforeAll(async () => {
    context = await createTestContext();
    geo = new pg.Client({ connectionString: context.databaseUrls.geo });
    await geo.connect();
    await makeLayer(
      geo,
      'pre_many',
      'id integer, name varchar',
      `INSERT INTO $table (wkb_geometry, id, name) SELECT ST_SetSRID(ST_MakePoint(i * 0.01, i * 0.02), 4326), i, 'point ' || i FROM generate_series(1, 500) i`,
      'first',
      // a column of points: the shapefile writer's fast path
      'Point',
    );
    exporter = await startService('export-service', context, { GEOJOBS_SHAPEFILE_MAX_BYTES: String(LIMIT) });
    gateway = await startService('gateway', context);
    admin = await Client.admin(gateway);
  });

  afterAll(async () => {
    await Promise.all([gateway, exporter].map((service) => service?.stop()));
    await geo?.end();
    await context?.dispose();
  });

  it('writes parts named _partN, every .shp and .dbf under the limit, together every feature once, the split in the README', async () => {
    const reply = await admin.post<Job>('/exports', { kind: 'layers', layers: ['pre_many'], formats: ['shp', 'csv'], name: 'split' });
    expect(reply.status).toBe(202);
    const job = await waitForJob<ExportResult>(admin, reply.body.id);
    expect({ state: job.state, error: job.error }).toEqual({ state: 'succeeded', error: null });
    const shapefiles = job.result!.files.filter((file) => file.format === 'shp');
    expect(shapefiles.length).toBeGreaterThan(1);
    expect(shapefiles.map((file) => file.name)).toEqual(shapefiles.map((_file, index) => `pre_many_points_part${index + 1}.shp`));
    expect(shapefiles.reduce((sum, file) => sum + file.features, 0)).toBe(500);
    expect(job.result!.files.find((file) => file.format === 'csv')).toEqual({ name: 'pre_many.csv', layer: 'pre_many', format: 'csv', features: 500 });

    const folder = await mkdtemp(join(tmpdir(), 'geojobs-layers-split-'));
    await unzip(join(storageDir(context), job.result!.file), folder);
    const ids: number[] = [];
    for (const [index, file] of shapefiles.entries()) {
      const base = file.name.replace(/\.shp$/, '');
      for (const ext of ['shp', 'dbf']) expect((await stat(join(folder, `${base}.${ext}`))).size).toBeLessThanOrEqual(LIMIT);
      expect((await readFile(join(folder, `${base}.cpg`), 'utf8')).trim()).toBe('UTF-8');
      const dataset = gdal.open(join(folder, file.name));
      const layer = dataset.layers.get(0);
      expect(layer.features.count()).toBe(file.features);
      for (const feature of layer.features) {
        ids.push(feature.fields.get('id') as number);
        expect(feature.fields.get('name')).toBe(`point ${feature.fields.get('id')}`);
      }
      dataset.close();
      const readme = await readFile(join(folder, 'README.txt'), 'utf8');
      expect(readme).toContain(`${file.name}\n`);
      expect(readme).toContain(`part ${index + 1} of ${shapefiles.length}: the layer's points would pass the shapefile limit of ${LIMIT} bytes`);
    }
    expect(ids).toEqual(Array.from({ length: 500 }, (_, index) => index + 1));
  });
});
