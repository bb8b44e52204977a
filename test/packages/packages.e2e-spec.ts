import { createHash } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import gdal from 'gdal-async';
import pg from 'pg';
import profile from '../../apps/export-service/src/packages/provenance/profiles/datapackage-2.0.json' with { type: 'json' };
import { createTestContext, type TestContext } from '../harness/context.js';
import { Client } from '../harness/http.js';
import { submitJob, waitForJob, type Job } from '../harness/jobs.js';
import { waitFor } from '../../libs/testing/src/index.js';
import { startService, storageDir, type RunningService } from '../harness/services.js';
import { LAYER_FEATURES, LAYER_ID, RASTER, TRIANGLE, createLayer, writeFiles, writeLargeRaster } from './package-fixtures.js';

interface Resource {
  name: string;
  path: string;
  format: string;
  mediatype: string;
  bytes: number;
  hash: string;
}
interface DataPackage {
  $schema: string;
  name: string;
  resources: Resource[];
}
interface Refusal {
  message: string[] | string;
}

const PROCESSORS = ['vector_clip.version_1', 'raster_clip.version_1'];
const exportEnv = (raster: string) => ({ GEOJOBS_PACKAGES_VECTOR_LAYER: LAYER_ID, GEOJOBS_PACKAGES_RASTER_SOURCE: raster });

/** y <= x, with a little room for the edge (GEOS cuts exactly on it). */
const inTriangle = (x: number, y: number, tolerance = 1e-9) => y <= x + tolerance && x <= 10 + tolerance && y >= -tolerance;

describe('data packages: boundaries, processors, the package saga, provenance (real gateway, export-service, RabbitMQ, PostGIS)', () => {
  let context: TestContext;
  let gateway: RunningService;
  let exporter: RunningService;
  let admin: Client;
  let storage: string;

  beforeAll(async () => {
    context = await createTestContext();
    storage = storageDir(context);
    await writeFiles(storage);
    await createLayer(context.databaseUrls.admin);
    gateway = await startService('gateway', context);
    exporter = await startService('export-service', context, exportEnv('sources/raster.tif'));
    admin = await Client.admin(gateway);
  });

  afterAll(async () => {
    await Promise.all([gateway?.stop(), exporter?.stop()]);
    await context?.dispose();
    if (context) await rm(storage, { recursive: true, force: true });
  });

  const sha256 = async (path: string) =>
    createHash('sha256')
      .update(await readFile(path))
      .digest('hex');

  it('loads boundaries from a GDAL-readable file with a field mapping (package.boundaries.load)', async () => {
    const job = await submitJob(admin, {
      type: 'package.boundaries.load',
      input: { file: 'boundaries/test.geojson', fields: { name: 'code', nameLong: 'title', adminLevel: 'level' } },
    });
    const done = await waitForJob(admin, job.id, 'succeeded');
    expect(done.result).toEqual({ loaded: 3, boundaries: ['tri', 'inner', 'east'] });

    const all = await admin.get<{ name: string; name_long: string }[]>('/boundaries');
    expect(all.body).toEqual([
      { name: 'east', name_long: 'East Land' },
      { name: 'inner', name_long: 'Inner Province' },
      { name: 'tri', name_long: 'Triangle Land' },
    ]);
    const missing = await submitJob(admin, { type: 'package.boundaries.load', input: { file: 'boundaries/none.gpkg', fields: { name: 'code' } } });
    expect((await waitForJob(admin, missing.id, 'failed')).error?.message).toBe('no file boundaries/none.gpkg in storage');
  });

  it('searches boundaries by name (case-insensitive, partial) and by point, and refuses neither or both', async () => {
    const names = async (query: string) => ((await admin.get<{ name: string }[]>(`/boundaries/search?${query}`)).body ?? []).map((row) => row.name);
    expect(await names('name=LAND')).toEqual(['east', 'tri']);
    expect(await names('name=inner')).toEqual(['inner']);
    expect(await names('latitude=2&longitude=7')).toEqual(['inner', 'tri']);
    expect(await names('latitude=6&longitude=7')).toEqual(['tri']);
    expect(await names('latitude=50&longitude=50')).toEqual([]);
    expect((await admin.get('/boundaries/search')).status).toBe(400);
    expect((await admin.get('/boundaries/search?name=tri&latitude=1&longitude=1')).status).toBe(400);
    expect((await admin.get('/boundaries/search?latitude=1')).status).toBe(400);

    const tri = await admin.get<{ geometry: { type: string }; envelope: { type: string; coordinates: number[][][] } }>('/boundaries/tri');
    expect(tri.body).toMatchObject({
      name: 'tri',
      name_long: 'Triangle Land',
      admin_level: '0',
      geometry: { type: 'MultiPolygon' },
      envelope: { type: 'Polygon' },
    });
    expect((await admin.get('/boundaries/nowhere')).status).toBe(404);
  });

  it('refuses a package naming an unknown boundary or processor, or a processor twice (400, naming it)', async () => {
    const boundary = await admin.post<Refusal>('/jobs', { type: 'package.build', input: { boundary: 'atlantis', processors: PROCESSORS } });
    expect(boundary.status).toBe(400);
    expect(boundary.body.message).toEqual(['input: no boundary atlantis']);
    const processor = await admin.post<Refusal>('/jobs', { type: 'package.build', input: { boundary: 'tri', processors: ['noexist.version_1'] } });
    expect(processor.status).toBe(400);
    expect(JSON.stringify(processor.body.message)).toMatch(/unknown processor noexist\.version_1/);
    const twice = await admin.post<Refusal>('/jobs', { type: 'package.build', input: { boundary: 'tri', processors: [PROCESSORS[0], PROCESSORS[0]] } });
    expect(twice.status).toBe(400);
    expect(JSON.stringify(twice.body.message)).toMatch(/duplicate processor vector_clip\.version_1/);
    expect((await admin.post<Refusal>('/jobs', { type: 'package.process', input: { boundary: 'tri', processor: PROCESSORS[0] } })).status).toBe(400);
  });

  it('builds a package with all three processors: the clipped features, the clipped raster, and a valid datapackage.json', async () => {
    const job = await submitJob(admin, { type: 'package.build', input: { boundary: 'tri', processors: PROCESSORS } });
    const done = await waitForJob<{ merge: { file: string; processors: string[] } }>(admin, job.id, 'succeeded', { timeoutMs: 90_000 });
    expect(done.result?.merge).toMatchObject({
      file: 'packages/tri/datapackage.json',
      processors: ['boundary.version_1', 'raster_clip.version_1', 'vector_clip.version_1'],
    });

    // the boundary itself
    const geojson = JSON.parse(await readFile(join(storage, 'packages/tri/boundary/version_1/boundary.geojson'), 'utf8')) as {
      features: { properties: Record<string, string> }[];
    };
    expect(geojson.features[0].properties).toEqual({ name: 'tri', name_long: 'Triangle Land', admin_level: '0' });

    // vector: every feature reaching into the triangle is there, clipped inside it, and nothing else
    const gpkg = gdal.open(join(storage, 'packages/tri/vector_clip/version_1/vector_clip.gpkg'));
    const clipped = new Map<string, gdal.Geometry>();
    for (const feature of gpkg.layers.get(0).features) clipped.set(feature.fields.get('name') as string, feature.getGeometry()!.clone());
    gpkg.close();
    expect([...clipped.keys()].sort()).toEqual(
      LAYER_FEATURES.filter((feature) => feature.inTriangle)
        .map((feature) => feature.name)
        .sort(),
    );
    const triangle = gdal.Geometry.fromGeoJson({ type: 'Polygon', coordinates: [TRIANGLE] }).buffer(1e-9, 4);
    for (const [name, geometry] of clipped) expect({ name, within: geometry.within(triangle) }).toEqual({ name, within: true });
    // the line crossing the edge y = x at (5, 5) is cut there
    const cross = clipped.get('l_cross')!.getEnvelope();
    expect([cross.minX, cross.minY, cross.maxX, cross.maxY].map((value) => Math.round(value * 1e6) / 1e6)).toEqual([5, 0.5, 5, 5]);
    const csv = (await readFile(join(storage, 'packages/tri/vector_clip/version_1/vector_clip.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toMatch(/^WKT,/);
    expect(csv).toHaveLength(1 + clipped.size);

    // raster: a COG within the envelope, the source's values inside the triangle, nodata outside it
    const tif = gdal.open(join(storage, 'packages/tri/raster_clip/version_1/raster_clip.tif'));
    expect(tif.driver.description).toBe('GTiff');
    expect(tif.getMetadata('IMAGE_STRUCTURE').LAYOUT).toBe('COG');
    const [originX, pixelX, , originY, , pixelY] = tif.geoTransform!;
    const { x: width, y: height } = tif.rasterSize;
    expect(originX).toBeGreaterThanOrEqual(-1e-9);
    expect(originY).toBeLessThanOrEqual(10 + 1e-9);
    expect(originX + width * pixelX).toBeLessThanOrEqual(10 + 1e-9);
    expect(originY + height * pixelY).toBeGreaterThanOrEqual(-1e-9);
    const band = tif.bands.get(1);
    const nodata = band.noDataValue;
    expect(nodata).toBe(0);
    const pixels = band.pixels.read(0, 0, width, height, new Uint8Array(width * height));
    let outside = 0;
    let inside = 0;
    for (let row = 0; row < height; row++) {
      for (let column = 0; column < width; column++) {
        const x = originX + (column + 0.5) * pixelX;
        const y = originY + (row + 0.5) * pixelY;
        const value = pixels[row * width + column];
        // pixel centres well away from the edge: outside must be nodata, inside the source's value
        if (!inTriangle(x, y, 0.2)) {
          outside++;
          expect({ x, y, value }).toEqual({ x, y, value: nodata });
        } else if (inTriangle(x, y, -0.2)) {
          inside++;
          const sourceColumn = Math.floor(x / RASTER.pixel);
          const sourceRow = Math.floor((10 - y) / RASTER.pixel);
          expect({ x, y, value }).toEqual({ x, y, value: RASTER.value(sourceColumn, sourceRow) });
        }
      }
    }
    tif.close();
    expect(outside).toBeGreaterThan(1_000);
    expect(inside).toBeGreaterThan(1_000);

    // datapackage.json: valid against the kept v2 profile, every file with its true size and sha256
    const datapackage = JSON.parse(await readFile(join(storage, 'packages/tri/datapackage.json'), 'utf8')) as DataPackage;
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv, ['date-time', 'email', 'uri']);
    ajv.addFormat('textarea', true);
    const validate = ajv.compile(profile);
    expect({ valid: validate(datapackage), errors: validate.errors ?? null }).toEqual({ valid: true, errors: null });
    expect(datapackage.$schema).toBe('https://datapackage.org/profiles/2.0/datapackage.json');
    expect(datapackage.resources.map((resource) => resource.path).sort()).toEqual([
      'boundary/version_1/boundary.geojson',
      'boundary/version_1/boundary.gpkg',
      'raster_clip/version_1/raster_clip.tif',
      'vector_clip/version_1/vector_clip.csv',
      'vector_clip/version_1/vector_clip.gpkg',
    ]);
    for (const resource of datapackage.resources) {
      const file = join(storage, 'packages/tri', resource.path);
      expect({ path: resource.path, bytes: resource.bytes, hash: resource.hash }).toEqual({
        path: resource.path,
        bytes: (await stat(file)).size,
        hash: `sha256:${await sha256(file)}`,
      });
    }
    const provenance = JSON.parse(await readFile(join(storage, 'packages/tri/provenance.json'), 'utf8')) as {
      file: string;
      processor: string;
      source: string;
    }[];
    expect(provenance.find((entry) => entry.file === 'vector_clip/version_1/vector_clip.gpkg')).toMatchObject({
      processor: 'vector_clip.version_1',
      source: `layers.${LAYER_ID}`,
    });

    // the gateway lists the package
    expect((await admin.get('/packages')).body).toEqual([{ boundary_name: 'tri', uri: 'storage://packages/tri/' }]);
    const view = await admin.get<{ processors: { name: string; versions: { name: string; status: string }[] }[]; datapackage: DataPackage }>('/packages/tri');
    expect(view.body.processors.map((processor) => processor.versions[0].name)).toEqual(['raster_clip.version_1', 'vector_clip.version_1']);
    expect(view.body.datapackage).toEqual(datapackage);
  });

  it('runs each processor once for eight identical packages submitted at once (7 SKIPPED, 1 SUCCESS), through /v1', async () => {
    const submitted = await Promise.all(
      Array.from({ length: 8 }, () => admin.post<{ job_id: string }>('/v1/jobs', { boundary_name: 'inner', processors: PROCESSORS })),
    );
    expect(submitted.map((reply) => reply.status)).toEqual(Array(8).fill(202));
    const ids = submitted.map((reply) => reply.body.job_id);
    expect(new Set(ids).size).toBe(8);
    for (const id of ids) await waitForJob(admin, id, 'succeeded', { timeoutMs: 90_000 });
    const statuses = await Promise.all(
      ids.map(
        async (id) =>
          (await admin.get<{ job_group_status: string; job_group_processors: { processor_name: string; job_status: string }[] }>(`/v1/jobs/${id}`)).body,
      ),
    );
    expect(statuses.map((status) => status.job_group_status)).toEqual(Array(8).fill('COMPLETE'));
    for (const processor of PROCESSORS) {
      const states = statuses.map((status) => status.job_group_processors.find((part) => part.processor_name === processor)!.job_status);
      expect({ processor, states: states.sort() }).toEqual({
        processor,
        states: ['SKIPPED', 'SKIPPED', 'SKIPPED', 'SKIPPED', 'SKIPPED', 'SKIPPED', 'SKIPPED', 'SUCCESS'],
      });
    }
    const db = new pg.Client({ connectionString: context.databaseUrls.admin });
    await db.connect();
    const outputs = await db.query(`SELECT processor, state FROM packages.outputs WHERE boundary = 'inner' ORDER BY processor`);
    await db.end();
    expect(outputs.rows).toEqual([
      { processor: 'boundary', state: 'succeeded' },
      { processor: 'raster_clip', state: 'succeeded' },
      { processor: 'vector_clip', state: 'succeeded' },
    ]);
  });

  it('serves the CCG API under /v1 with irv-autopkg JSON', async () => {
    const anonymous = new Client(gateway.url);
    expect((await anonymous.get('/v1/liveness')).body).toEqual({ status: 'alive' });
    expect((await anonymous.get('/v1/readiness')).body).toEqual({ status: 'ready' });
    expect((await anonymous.get('/v1/boundaries/search?name=inner')).body).toEqual([{ name: 'inner', name_long: 'Inner Province' }]);
    expect((await anonymous.get('/v1/boundaries/search')).body).toEqual({
      detail: 'Search must include name or valid latitude, longitude coordinates (not both)',
    });
    expect((await anonymous.get('/v1/boundaries/nowhere')).body).toEqual({ detail: 'Requested boundary nowhere could not be found' });
    const processors = await anonymous.get<{ name: string; versions: Record<string, unknown>[] }[]>('/v1/processors');
    expect(processors.body.map((processor) => processor.name)).toEqual(['vector_clip', 'raster_clip']);
    const version = await anonymous.get('/v1/processors/vector_clip/version_1');
    expect(version.body).toEqual({
      name: 'vector_clip.version_1',
      description: 'A previewed vector layer clipped to the boundary',
      version: 'version_1',
      data_author: 'geojobs',
      data_title: 'Vector layer',
      data_title_long: 'A previewed vector layer, clipped to the boundary with ST_Intersection',
      data_summary: 'Every feature of the layer that intersects the boundary, cut to it',
      data_citation: '',
      data_license: { name: 'ODbL-1.0', path: 'https://opendefinition.org/licenses/odc-odbl', title: 'Open Data Commons Open Database License 1.0' },
      data_origin_url: 'https://github.com/nismod/irv-autopkg',
      data_formats: ['GeoPackage', 'CSV'],
    });
    expect((await anonymous.get('/v1/processors/vector_clip')).body).toEqual({ name: 'vector_clip', versions: [version.body] });
    expect((await anonymous.get('/v1/processors/noexist')).status).toBe(404);
    expect((await anonymous.get('/v1/processors/vector_clip/noexist')).status).toBe(404);
    const inner = await anonymous.get<Record<string, unknown>>('/v1/packages/inner');
    expect(Object.keys(inner.body).sort()).toEqual(['boundary', 'boundary_name', 'datapackage', 'processors', 'uri']);
    expect((await anonymous.get('/v1/packages/east')).status).toBe(404);

    const unknownBoundary = await admin.post('/v1/jobs', { boundary_name: 'noexist', processors: ['vector_clip.version_1'] });
    expect({ status: unknownBoundary.status, body: unknownBoundary.body }).toEqual({
      status: 400,
      body: { detail: 'Requested boundary noexist could not be found' },
    });
    const unknownProcessor = await admin.post('/v1/jobs', { boundary_name: 'tri', processors: ['noexist.version_1'] });
    expect({ status: unknownProcessor.status, body: unknownProcessor.body }).toEqual({
      status: 400,
      body: { detail: 'Invalid processor.version: noexist.version_1' },
    });
    const duplicate = await admin.post<{ detail: { msg: string }[] }>('/v1/jobs', { boundary_name: 'tri', processors: [PROCESSORS[0], PROCESSORS[0]] });
    expect(duplicate.status).toBe(422);
    expect(duplicate.body.detail[0].msg).toBe('duplicate processors not allowed');
    expect((await anonymous.post('/v1/jobs', { boundary_name: 'tri', processors: [PROCESSORS[0]] })).status).toBe(401);

    // a package that exists already: the job completes at once, its processor SKIPPED with the existing files
    const { body } = await admin.post<{ job_id: string }>('/v1/jobs', { boundary_name: 'tri', processors: ['vector_clip.version_1'] });
    await waitForJob(admin, body.job_id, 'succeeded');
    const status = await admin.get(`/v1/jobs/${body.job_id}`);
    expect(status.body).toMatchObject({
      job_group_status: 'COMPLETE',
      job_group_percent_complete: 100,
      job_group_processors: [
        { processor_name: 'vector_clip.version_1', job_status: 'SKIPPED', job_result: { skipped: 'exists', processor: 'vector_clip.version_1' } },
      ],
    });
    expect((await admin.get('/v1/jobs/00000000-0000-4000-8000-000000000000')).body).toEqual({ detail: 'Job not found: 00000000-0000-4000-8000-000000000000' });
  });

  it('fails only the failing processor: its part fails with its error, the package job fails listing it, the rest is kept', async () => {
    await exporter.stop();
    exporter = await startService('export-service', context, exportEnv('sources/broken.tif'));
    const job = await submitJob(admin, { type: 'package.build', input: { boundary: 'east', processors: PROCESSORS } });
    const done = await waitForJob<{ errors: { message: string }[]; merge: { processors: string[]; failed: string[] } }>(admin, job.id, 'failed', {
      timeoutMs: 90_000,
    });
    expect(done.result?.errors.map((error) => error.message)).toEqual([
      expect.stringMatching(/^raster_clip\.version_1: the configured source sources\/broken\.tif is not a GeoTIFF/),
    ]);
    expect(done.result?.merge.processors).toEqual(['boundary.version_1', 'vector_clip.version_1']);
    const datapackage = JSON.parse(await readFile(join(storage, 'packages/east/datapackage.json'), 'utf8')) as DataPackage;
    expect(datapackage.resources.map((resource) => resource.path)).toEqual([
      'boundary/version_1/boundary.geojson',
      'boundary/version_1/boundary.gpkg',
      'vector_clip/version_1/vector_clip.gpkg',
      'vector_clip/version_1/vector_clip.csv',
    ]);
    await expect(stat(join(storage, 'packages/east/raster_clip'))).rejects.toThrow();
    const status = await admin.get<{ job_group_processors: { processor_name: string; job_status: string; job_result: { failed?: string } }[] }>(
      `/v1/jobs/${job.id}`,
    );
    const raster = status.body.job_group_processors.find((part) => part.processor_name === 'raster_clip.version_1')!;
    expect(raster.job_status).toBe('FAILURE');
    expect(raster.job_result.failed).toMatch(/not a GeoTIFF/);
  });

  it('builds many boundaries at once as a batch of nested package sagas', async () => {
    const job = await submitJob(admin, { type: 'package.build', input: { boundaries: 'all', processors: ['vector_clip.version_1'] } });
    const done = await waitForJob<{ children: { total: number; succeeded: number } }>(admin, job.id, 'succeeded', { timeoutMs: 90_000 });
    expect(done.result?.children).toMatchObject({ total: 3, succeeded: 3 });
    const both = await admin.post<Refusal>('/jobs', { type: 'package.build', input: { boundary: 'tri', boundaries: ['east'], processors: PROCESSORS } });
    expect(both.status).toBe(400);
    expect(JSON.stringify(both.body.message)).toMatch(/give boundary or boundaries, not both/);
  });

  it('cancels a package while its processor runs: the processor stops, its output is marked failed and its files removed', async () => {
    writeLargeRaster(storage);
    await exporter.stop();
    exporter = await startService('export-service', context, exportEnv('sources/large.tif'));
    const job = await submitJob(admin, { type: 'package.build', input: { boundary: 'east', processors: ['raster_clip.version_1'] } });
    const running = await waitFor(
      async () => {
        const status = (await admin.get<{ job_group_processors: { job_id: string; job_status: string }[] }>(`/v1/jobs/${job.id}`)).body;
        const part = status.job_group_processors[0];
        return part.job_status === 'EXECUTING' && part;
      },
      'the raster processor to run',
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    const cancelled = await admin.post<Job>(`/jobs/${job.id}/cancel`);
    expect(cancelled.body.state).toBe('cancelled');
    const db = new pg.Client({ connectionString: context.databaseUrls.admin });
    await db.connect();
    try {
      const started = Date.now();
      const output = await waitFor(
        async () => {
          const { rows } = await db.query<{ state: string; error: { message: string } | null }>(
            `SELECT state, error FROM packages.outputs WHERE boundary = 'east' AND processor = 'raster_clip'`,
          );
          return rows[0]?.state === 'failed' && rows[0];
        },
        'the cancelled output to be marked failed',
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      expect(output.error).toEqual({ message: 'cancelled' });
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await db.end();
    }
    expect((await admin.get<Job>(`/jobs/${running.job_id}`)).body.state).toBe('cancelled');
    await expect(stat(join(storage, 'packages/east/raster_clip'))).rejects.toThrow();
  });

  it('leaves an output another run is making alone (skipped: running), and rebuilds one whose run stopped beating', async () => {
    const db = new pg.Client({ connectionString: context.databaseUrls.admin });
    await db.connect();
    const claimBy = (heartbeat: string) =>
      db.query(
        `UPDATE packages.outputs SET state = 'running', job_id = gen_random_uuid(), heartbeat_at = now() - $1::interval
                WHERE boundary = 'east' AND processor = 'raster_clip'`,
        [heartbeat],
      );
    const build = async () => {
      const job = await submitJob(admin, { type: 'package.build', input: { boundary: 'east', processors: ['raster_clip.version_1'] } });
      await waitForJob(admin, job.id, 'succeeded', { timeoutMs: 60_000 });
      return (await admin.get<{ job_group_processors: { job_id: string; job_status: string; job_result: Record<string, unknown> }[] }>(`/v1/jobs/${job.id}`))
        .body.job_group_processors[0];
    };
    try {
      await claimBy('0 seconds');
      expect(await build()).toMatchObject({ job_status: 'SKIPPED', job_result: { skipped: 'running' } });
      await claimBy('1 hour'); // older than GEOJOBS_PACKAGES_STALE_SECONDS: its service died
      const rebuilt = await build();
      expect(rebuilt.job_status).toBe('SUCCESS');
      const { rows } = await db.query<{ state: string; job_id: string }>(
        `SELECT state, job_id FROM packages.outputs WHERE boundary = 'east' AND processor = 'raster_clip'`,
      );
      expect(rows).toEqual([{ state: 'succeeded', job_id: rebuilt.job_id }]);
    } finally {
      await db.end();
    }
  });
});
