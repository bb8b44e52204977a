import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { FileServer } from '../geo/geo-files.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { Client } from '../harness/http.js';
import { waitForJob, type Job } from '../harness/jobs.js';
import { startService, storageDir, type RunningService } from '../harness/services.js';
import { csvText, GDB_LAYERS, GPKG_LAYERS, makeFixtures, parseCsv, readZip, SHP_LAYER, SQLITE_LAYERS, type FixtureLayer } from './convert-fixtures.js';

/** The result of an `export.convert` job. */
interface ConvertResult {
  file?: string;
  output: string;
  tables: { name: string; file: string; rows: number; columns: number }[];
  bytes: number;
  engine: string;
  charset: string;
}

/** A CSV's records as objects keyed by its header. */
const recordsOf = (csv: string): Record<string, string>[] => {
  const [header, ...rows] = parseCsv(csv);
  return rows.map((row) => Object.fromEntries(header.map((name, index) => [name, row[index]])));
};

/** The same geometry (FileGDB and shapefiles may write rings the other way round, or as multi-geometries). */
const sameGeometry = (actual: string, expected: string): boolean => {
  const a = gdal.Geometry.fromWKT(actual);
  const b = gdal.Geometry.fromWKT(expected);
  return a.equals(b) || a.symDifference(b).isEmpty();
};

describe('export.convert: GeoPackage, SQLite, FileGDB and shapefile inputs to a ZIP of CSVs (real services, RabbitMQ, PostgreSQL)', () => {
  let context: TestContext;
  let gateway: RunningService;
  let exporter: RunningService;
  let admin: Client;
  let scratch: string;
  const files = new FileServer();

  beforeAll(async () => {
    context = await createTestContext();
    await files.start();
    const fixtures = await makeFixtures(join(await mkdtemp(join(tmpdir(), 'geojobs-convert-fixtures-')), 'f'));
    files.routes.set('/data/several.gpkg', fixtures.gpkg);
    files.routes.set('/data/plain.sqlite', fixtures.sqlite);
    files.routes.set('/data/cadastre.gdb.zip', fixtures.gdbZip);
    files.routes.set('/data/bairros.zip', fixtures.shpZip);
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

  const convert = async (input: Record<string, unknown>): Promise<{ job: Job<ConvertResult>; zip: Map<string, Buffer> }> => {
    const reply = await admin.post<Job>('/exports', { kind: 'convert', ...input });
    expect({ status: reply.status, body: reply.body }).toMatchObject({ status: 202 });
    const job = await waitForJob<ConvertResult>(admin, reply.body.id, 'succeeded', { timeoutMs: 90_000 });
    const result = job.result!;
    expect(result.file).toMatch(new RegExp(`^convert/${job.id}/[A-Za-z0-9._-]+\\.zip$`));
    expect(result.output).toBe(`storage://${result.file}`);
    const zip = await readZip(join(storageDir(context), result.file!));
    expect(await readdir(scratch)).toEqual([]);
    return { job, zip };
  };

  /** The CSV of a fixture layer holds its rows, field by field, and its geometry. */
  const expectLayer = (csv: string, layer: FixtureLayer, geometryColumn: string | undefined, exactWkt: boolean, columnOf = (field: string) => field) => {
    const records = recordsOf(csv);
    expect(records).toHaveLength(layer.rows.length);
    layer.rows.forEach((row, index) => {
      const record = records[index];
      layer.fields.forEach((field, column) => {
        expect({ field: field.name, value: record[columnOf(field.name)] }).toEqual({ field: field.name, value: csvText(row.values[column]) });
      });
      if (row.wkt && geometryColumn) {
        if (exactWkt) expect(record[geometryColumn]).toBe(row.wkt);
        else expect({ wkt: record[geometryColumn], same: sameGeometry(record[geometryColumn], row.wkt) }).toEqual({ wkt: record[geometryColumn], same: true });
      }
    });
  };

  it('converts every layer of a GeoPackage: rows, NULLs, dates, timestamps and WKT equal to the source, names made safe', async () => {
    const { job, zip } = await convert({ uri: files.url('/data/several.gpkg') });
    const result = job.result!;
    expect(result.file).toBe(`convert/${job.id}/several.zip`);
    expect(result.engine).toBe('GeoPackage');
    expect(result.charset).toBe('utf-8');
    expect(result.tables).toEqual([
      { name: 'roads', file: 'roads.csv', rows: 3, columns: 7 },
      { name: 'Lugares "SP" / Rio', file: 'Lugares_SP_Rio.csv', rows: 2, columns: 4 },
      { name: 'notes', file: 'notes.csv', rows: 2, columns: 2 },
    ]);
    expect([...zip.keys()].sort()).toEqual(['Lugares_SP_Rio.csv', 'README.txt', 'notes.csv', 'roads.csv']);
    const roads = zip.get('roads.csv')!.toString('utf8');
    expect(parseCsv(roads)[0]).toEqual(['fid', 'name', 'lanes', 'opened', 'length', 'seen', 'geom']);
    expect(roads).toContain('\r\n2,"Rua ""Direita"", centro",,,,,"LINESTRING (0 0,1 1)"\r\n');
    expectLayer(roads, GPKG_LAYERS[0], 'geom', true);
    expect(recordsOf(roads).map((record) => record.fid)).toEqual(['1', '2', '3']);
    expectLayer(zip.get('Lugares_SP_Rio.csv')!.toString('utf8'), GPKG_LAYERS[1], 'geom', true);
    expectLayer(zip.get('notes.csv')!.toString('utf8'), GPKG_LAYERS[2], undefined, true);
    const readme = zip.get('README.txt')!.toString('utf8');
    expect(readme).toContain('Engine:         GeoPackage');
    expect(readme).toContain('Lugares_SP_Rio.csv\r\n  table:   Lugares "SP" / Rio\r\n  rows:    2\r\n  columns: 4');
    expect(readme).toContain('    população  Integer64 (integer)');
    expect(readme).toContain('    opened  Date (date)');
  });

  it('converts only the tables asked for, in Latin-1 when asked', async () => {
    const { job, zip } = await convert({ uri: files.url('/data/several.gpkg'), tables: ['Lugares "SP" / Rio'], charset: 'latin1' });
    expect(job.result!.charset).toBe('latin1');
    expect([...zip.keys()].sort()).toEqual(['Lugares_SP_Rio.csv', 'README.txt']);
    const bytes = zip.get('Lugares_SP_Rio.csv')!;
    expect(bytes.includes(Buffer.from('São Paulo', 'latin1'))).toBe(true);
    expect(bytes.includes(Buffer.from('população', 'latin1'))).toBe(true);
    expect(bytes.includes(Buffer.from('São', 'utf8'))).toBe(false);
    expectLayer(bytes.toString('latin1'), GPKG_LAYERS[1], 'geom', true);
  });

  it('converts an SQLite database, its non-spatial table too', async () => {
    const { job, zip } = await convert({ uri: files.url('/data/plain.sqlite') });
    expect(job.result!.engine).toBe('SQLite/SpatiaLite');
    expect(job.result!.tables.map((table) => [table.name, table.rows])).toEqual([
      ['cities', 2],
      ['meta', 1],
    ]);
    const cities = zip.get('cities.csv')!.toString('utf8');
    const geometry = parseCsv(cities)[0].at(-1)!;
    expectLayer(cities, SQLITE_LAYERS[0], geometry, true);
    expectLayer(zip.get('meta.csv')!.toString('utf8'), SQLITE_LAYERS[1], undefined, true);
  });

  it('converts a zipped FileGDB, every layer', async () => {
    const { job, zip } = await convert({ uri: files.url('/data/cadastre.gdb.zip') });
    expect(job.result!.engine).toBe('ESRI FileGDB');
    expect(job.result!.file).toBe(`convert/${job.id}/cadastre.gdb.zip`);
    expect(job.result!.tables.map((table) => [table.name, table.file, table.rows])).toEqual([
      ['parcels', 'parcels.csv', 2],
      ['wells', 'wells.csv', 1],
    ]);
    for (const [index, file] of ['parcels.csv', 'wells.csv'].entries()) {
      const csv = zip.get(file)!.toString('utf8');
      const header = parseCsv(csv)[0];
      expect(header[0]).toBe('OBJECTID');
      expectLayer(csv, GDB_LAYERS[index], header.at(-1), false);
    }
  });

  it('converts a zipped shapefile, dates as YYYY-MM-DD, and names its encoding', async () => {
    const { job, zip } = await convert({ uri: files.url('/data/bairros.zip') });
    expect(job.result!).toMatchObject({ engine: 'ESRI Shapefile', tables: [{ name: 'bairros', file: 'bairros.csv', rows: 2, columns: 3 }] });
    const csv = zip.get('bairros.csv')!.toString('utf8');
    expect(parseCsv(csv)[0]).toEqual(['nome', 'criado', 'geometry']);
    // a DBF holds field names of 10 characters at most
    expectLayer(csv, SHP_LAYER, 'geometry', false, (field) => field.slice(0, 10));
    expect(zip.get('README.txt')!.toString('utf8')).toContain('Source charset: UTF-8');
  });
});
