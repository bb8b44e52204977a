import { mkdtemp, readFile, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import pg from 'pg';
import { createTestContext, type TestContext } from '../harness/context.js';
import { Client } from '../harness/http.js';
import { waitForJob, type Job } from '../harness/jobs.js';
import { startService, storageDir, type RunningService } from '../harness/services.js';
import { makeLayer, parseCsv, unzip } from './layers-support.js';

interface ExportResult {
  file: string;
  bytes: number;
  name: string;
  layers: string[];
  files: { name: string; layer: string; format: string; features: number }[];
  steps: { name: string; status: string }[];
}

const MIXED_COLUMNS = 'population_total integer, population_urban double precision, name varchar, observed timestamptz, day date';
const MIXED_FILL = `INSERT INTO $table (wkb_geometry, population_total, population_urban, name, observed, day) VALUES
  ('SRID=4326;POINT(1.5 2.25)', 100, 0.5, 'Zürich "quoted", with comma', '2026-01-02 03:04:05.5+00', '2026-01-02'),
  ('SRID=4326;MULTIPOINT((1 1),(2 2))', 200, 1.25, E'line\\nbreak', NULL, NULL),
  ('SRID=4326;LINESTRING(0 0,1 1,2 0)', 300, NULL, repeat('é', 200), '2026-05-06 07:08:09+00', '2026-05-06'),
  ('SRID=4326;POLYGON((0 0,0 1,1 1,1 0,0 0))', 400, 4.5, 'square', NULL, NULL),
  ('SRID=4326;MULTIPOLYGON(((10 10,10 11,11 11,11 10,10 10)),((20 20,20 21,21 21,20 20)))', 500, 5.5, 'two squares', NULL, NULL),
  (NULL, 600, 6.5, 'no geometry', NULL, NULL),
  ('SRID=4326;GEOMETRYCOLLECTION(POINT(0 0),LINESTRING(0 0,1 1))', 700, 7.5, 'collection', NULL, NULL);
  INSERT INTO $table (wkb_geometry, population_total, population_urban, name)
    SELECT ST_SetSRID(ST_MakePoint(i * 0.123456789, i * -0.0987654321), 4326), 1000 + i, i / 3.0, 'point ' || i FROM generate_series(1, 50) i`;

describe('export.layers: previewed layers as a ZIP of CSV, Shapefiles, GeoPackage, GeoJSON (real services, RabbitMQ, PostGIS)', () => {
  let context: TestContext;
  let gateway: RunningService;
  let exporter: RunningService;
  let admin: Client;
  let geo: pg.Client;

  beforeAll(async () => {
    context = await createTestContext();
    geo = new pg.Client({ connectionString: context.databaseUrls.geo });
    await geo.connect();
    await makeLayer(geo, 'pre_mixed', MIXED_COLUMNS, MIXED_FILL);
    await makeLayer(
      geo,
      'pre_roads',
      'kind text',
      `INSERT INTO $table (wkb_geometry, kind) SELECT ST_SetSRID(ST_MakeLine(ST_MakePoint(i, 0), ST_MakePoint(i, 1)), 4326), 'road ' || i FROM generate_series(1, 10) i`,
    );
    exporter = await startService('export-service', context);
    gateway = await startService('gateway', context);
    admin = await Client.admin(gateway);
  });

  afterAll(async () => {
    await Promise.all([gateway, exporter].map((service) => service?.stop()));
    await geo?.end();
    await context?.dispose();
  });

  const exportLayers = async (body: Record<string, unknown>): Promise<Job<ExportResult>> => {
    const reply = await admin.post<Job>('/exports', { kind: 'layers', ...body });
    expect({ status: reply.status, body: reply.body }).toMatchObject({ status: 202 });
    return waitForJob<ExportResult>(admin, reply.body.id);
  };

  const unpacked = async (result: ExportResult) => {
    const folder = await mkdtemp(join(tmpdir(), 'geojobs-layers-export-'));
    const names = await unzip(join(storageDir(context), result.file), folder);
    return { folder, names };
  };

  let first: ExportResult;
  let folder: string;
  let names: string[];

  it('bundles each layer in the four formats with a README, the ZIP named in the result', async () => {
    const job = await exportLayers({ layers: ['pre_mixed', 'pre_roads'], name: 'bundle' });
    expect({ state: job.state, error: job.error }).toEqual({ state: 'succeeded', error: null });
    first = job.result!;
    expect(first.file).toMatch(/^exports\/layers\/[0-9a-f]+\/bundle\.zip$/);
    expect(first).toMatchObject({ name: 'bundle.zip', layers: ['pre_mixed', 'pre_roads'] });
    expect(first.bytes).toBe((await stat(join(storageDir(context), first.file))).size);
    ({ folder, names } = await unpacked(first));
    expect([...names].sort()).toEqual(
      [
        'README.txt',
        'pre_mixed.csv',
        'pre_mixed.gpkg',
        'pre_mixed.geojson',
        ...['points', 'lines', 'polygons'].flatMap((kind) => ['shp', 'shx', 'dbf', 'prj', 'cpg'].map((ext) => `pre_mixed_${kind}.${ext}`)),
        'pre_mixed_nogeometry.dbf',
        'pre_mixed_nogeometry.cpg',
        'pre_roads.csv',
        'pre_roads.gpkg',
        'pre_roads.geojson',
        ...['shp', 'shx', 'dbf', 'prj', 'cpg'].map((ext) => `pre_roads_lines.${ext}`),
      ].sort(),
    );
    expect(first.files.map((file) => [file.name, file.format, file.features])).toEqual(
      expect.arrayContaining([
        ['pre_mixed.csv', 'csv', 57],
        ['pre_mixed_points.shp', 'shp', 52],
        ['pre_mixed_lines.shp', 'shp', 1],
        ['pre_mixed_polygons.shp', 'shp', 2],
        ['pre_mixed_nogeometry.dbf', 'shp', 1],
        ['pre_mixed.gpkg', 'gpkg', 57],
        ['pre_mixed.geojson', 'geojson', 57],
        ['pre_roads.csv', 'csv', 10],
        ['pre_roads_lines.shp', 'shp', 10],
      ]),
    );
    expect(first.steps.map((step) => [step.name, step.status])).toEqual([
      ['stamps', 'done'],
      ['bundle', 'done'],
    ]);
  });

  it('writes CSV rows equal to the source features: attributes as PostgreSQL shows them, geometry as its WKT', async () => {
    const csv = parseCsv(await readFile(join(folder, 'pre_mixed.csv'), 'utf8'));
    expect(csv[0]).toEqual(['WKT', 'population_total', 'population_urban', 'name', 'observed', 'day']);
    const { rows } = await geo.query<Record<string, string | null>>(
      `SELECT ST_AsText(wkb_geometry) AS wkt, population_total::text AS a, population_urban::text AS b, name, observed::text AS c, day::text AS d
         FROM layers.pre_mixed ORDER BY ogc_fid`,
    );
    const expected = rows.map((row) => [row.wkt, row.a, row.b, row.name, row.c, row.d].map((value) => value ?? ''));
    expect(csv.slice(1).sort()).toEqual(expected.sort());
    expect(csv.slice(1).map((row) => row[0])).toContain('POINT(1.5 2.25)');
  });

  it('writes shapefiles GDAL reopens, one per geometry type, field names mapped, UTF-8 declared, long text cut and said so', async () => {
    const points = gdal.open(join(folder, 'pre_mixed_points.shp'));
    const layer = points.layers.get(0);
    expect(layer.fields.getNames()).toEqual(['populatio1', 'populatio2', 'name', 'observed', 'day']);
    const read = layer.features.map((feature) => [feature.fields.get('populatio1'), feature.fields.get('name')]);
    const { rows } = await geo.query<{ a: number; name: string }>(
      `SELECT population_total AS a, name FROM layers.pre_mixed WHERE rtrim(GeometryType(wkb_geometry), 'M') IN ('POINT', 'MULTIPOINT') ORDER BY ogc_fid`,
    );
    expect(read).toEqual(rows.map((row) => [row.a, row.name]));
    expect(layer.features.get(0).fields.get('observed')).toBe('2026-01-02 03:04:05.5+00');
    points.close();

    const lines = gdal.open(join(folder, 'pre_mixed_lines.shp'));
    const long = lines.layers.get(0).features.get(0).fields.get('name') as string;
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(254);
    expect('é'.repeat(200).startsWith(long)).toBe(true);
    expect(lines.layers.get(0).geomType === gdal.wkbLineString || lines.layers.get(0).geomType === gdal.wkbMultiLineString).toBe(true);
    lines.close();

    const polygons = gdal.open(join(folder, 'pre_mixed_polygons.shp'));
    expect(polygons.layers.get(0).features.count()).toBe(2);
    polygons.close();
    expect((await readFile(join(folder, 'pre_mixed_points.cpg'), 'utf8')).trim()).toBe('UTF-8');

    const readme = await readFile(join(folder, 'README.txt'), 'utf8');
    expect(readme).toContain('population_total → populatio1, population_urban → populatio2');
    expect(readme).toContain('name: 1 value longer than 254 bytes cut to 254');
    expect(readme).toContain('1 feature of geometry type GEOMETRYCOLLECTION left out');
    expect(readme).toContain('observed (date and time): written as text');
  });

  it('writes GeoPackages and GeoJSON GDAL reopens with every feature and its attributes', async () => {
    const { rows } = await geo.query<{ a: number; b: number | null; name: string }>(
      'SELECT population_total AS a, population_urban AS b, name FROM layers.pre_mixed ORDER BY ogc_fid',
    );
    for (const file of ['pre_mixed.gpkg', 'pre_mixed.geojson']) {
      const dataset = gdal.open(join(folder, file));
      const layer = dataset.layers.get(0);
      expect(layer.features.count()).toBe(57);
      const read = layer.features.map((feature) => ({
        a: feature.fields.get('population_total'),
        b: feature.fields.get('population_urban'),
        name: feature.fields.get('name'),
      }));
      expect(read).toEqual(rows);
      dataset.close();
    }
  });

  it('lists every file in the README with its layer, format, feature count, fields, CRS and the time of export', async () => {
    const readme = await readFile(join(folder, 'README.txt'), 'utf8');
    for (const file of first.files) {
      expect(readme).toContain(`${file.name}\n`);
      expect(readme).toContain(`  layer:    ${file.layer}`);
    }
    expect(readme).toMatch(/Exported at \d{4}-\d\d-\d\dT/);
    expect(readme).toContain(
      'pre_mixed.gpkg\n  layer:    pre_mixed\n  format:   GeoPackage\n  features: 57\n  fields:   population_total, population_urban, name, observed, day\n  CRS:      EPSG:4326',
    );
    expect(readme).toContain('pre_mixed_points.shp\n  with:     pre_mixed_points.cpg, pre_mixed_points.dbf, pre_mixed_points.prj, pre_mixed_points.shx');
  });

  it('returns the same file at once for the same export of unchanged layers (bundle step cached), a new one after a re-import', async () => {
    const again = await exportLayers({ layers: ['pre_mixed', 'pre_roads'], name: 'bundle' });
    expect(again.state).toBe('succeeded');
    expect(again.result!.file).toBe(first.file);
    expect(again.result!.steps.map((step) => [step.name, step.status])).toEqual([
      ['stamps', 'done'],
      ['bundle', 'cached'],
    ]);
    await geo.query(`COMMENT ON TABLE layers.pre_roads IS 'geojobs import second'`);
    const reimported = await exportLayers({ layers: ['pre_mixed', 'pre_roads'], name: 'bundle' });
    expect(reimported.result!.file).not.toBe(first.file);
    expect(reimported.result!.steps.map((step) => step.status)).toEqual(['done', 'done']);
  });

  it('makes the bundle again when its file is gone from storage', async () => {
    const job = await exportLayers({ layers: ['pre_roads'], formats: ['csv'], name: 'roads' });
    const { rm } = await import('node:fs/promises');
    await rm(join(storageDir(context), job.result!.file));
    const again = await exportLayers({ layers: ['pre_roads'], formats: ['csv'], name: 'roads' });
    expect(again.result!.file).toBe(job.result!.file);
    expect(again.result!.steps.map((step) => step.status)).toEqual(['done', 'done']);
    expect(again.result!.files).toEqual([{ name: 'pre_roads.csv', layer: 'pre_roads', format: 'csv', features: 10 }]);
  });

  it('fails naming a layer dropped between the submission and the run, leaving nothing in storage', async () => {
    await makeLayer(geo, 'pre_doomed', 'kind text', `INSERT INTO $table (wkb_geometry, kind) VALUES ('SRID=4326;POINT(0 0)', 'x')`);
    await exporter.stop();
    const reply = await admin.post<Job>('/exports', { kind: 'layers', layers: ['pre_roads', 'pre_doomed'], name: 'doomed' });
    expect(reply.status).toBe(202);
    await geo.query('DROP TABLE layers.pre_doomed');
    exporter = await startService('export-service', context);
    const job = await waitForJob<ExportResult>(admin, reply.body.id);
    expect(job.state).toBe('failed');
    expect(job.error!.message).toBe('layer pre_doomed no longer exists (removed since the export was asked for)');
    const zips = (await readdir(join(storageDir(context), 'exports', 'layers'), { recursive: true })).filter((name) => name.endsWith('doomed.zip'));
    expect(zips).toEqual([]);
  });
});
