/**
 * An import's clean-and-index phase (StagingTablesRepository, through ImportService) against the real PostGIS:
 * features out of lon/lat range are dropped and counted (found from the index's extent), including longitudes that
 * ST_Transform refuses, which the Web Mercator index leaves out whether it is built before the cleaning deletes them
 * or after; a layer within range keeps every feature, right up to ±180° / ±90°.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { DataSource } from 'typeorm';
import { webMercatorPredicate } from '#shared';
import { GdalTranslationService } from '../../apps/geo-service/src/geopreview/gdal-translation.service.js';
import { ImportService } from '../../apps/geo-service/src/geopreview/import.service.js';
import { SourceService, type SourceLayer } from '../../apps/geo-service/src/geopreview/source.service.js';
import { StagingTablesRepository } from '../../apps/geo-service/src/geopreview/staging-tables.repository.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { geojson, type PointRow } from './geo-files.js';

describe('import: out-of-range features dropped, both spatial indexes built', () => {
  let context: TestContext;
  let database: DataSource;
  let admin: pg.Client;
  let folder: string;
  let imports: ImportService;
  const opened: SourceLayer[][] = [];

  const query = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => (await admin.query(sql, params)).rows as T[];
  const open = async (name: string, points: PointRow[]): Promise<SourceLayer> => {
    const path = join(folder, `${name}.geojson`);
    await writeFile(path, geojson(points));
    const layers = await new SourceService().openAll([path], folder);
    opened.push(layers);
    return layers[0];
  };
  const indexes = async (table: string) =>
    (await query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE schemaname = 'layers' AND tablename = $1 ORDER BY 1`, [table])).map(
      (row) => row.indexname,
    );

  beforeAll(async () => {
    context = await createTestContext();
    admin = new pg.Client({ connectionString: context.databaseUrls.admin });
    await admin.connect();
    database = new DataSource({ type: 'postgres', url: context.databaseUrls.geo, synchronize: false });
    await database.initialize();
    const logger = pino({ level: 'silent' });
    imports = new ImportService(new GdalTranslationService(context.databaseUrls.geo, database), new StagingTablesRepository(database), logger);
    folder = await mkdtemp(join(tmpdir(), 'geojobs-import-clean-'));
  });

  afterAll(async () => {
    for (const layers of opened) SourceService.closeAll(layers);
    await database?.destroy();
    await admin?.end();
    await context?.dispose();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  afterEach(async () => {
    expect(await query(`SELECT tablename FROM pg_tables WHERE schemaname = 'layers_staging'`)).toEqual([]);
  });

  it('drops features out of range, one of them a longitude ST_Transform cannot take, and still builds the tile index', async () => {
    const layer = await open('out-of-range', [
      { lon: 2.35, lat: 48.85, name: 'Paris' },
      { lon: 1e300, lat: 10, name: 'huge' },
      { lon: 500, lat: 10, name: 'wrapped' },
      { lon: 10, lat: -95, name: 'south of the pole' },
      { lon: -0.12, lat: 51.5, name: 'London' },
    ]);
    const result = await imports.importLayer(layer, 'pre_out_of_range');
    expect(result).toEqual({ recoveries: [], droppedFeatures: 3 });
    expect(await query(`SELECT name FROM layers.pre_out_of_range ORDER BY name`)).toEqual([{ name: 'London' }, { name: 'Paris' }]);
    expect(await indexes('pre_out_of_range')).toEqual(['pre_out_of_range_3857', 'pre_out_of_range_geom', 'pre_out_of_range_pkey']);
  });

  it('builds the Web Mercator index over features ST_Transform refuses, as when the build runs before the cleaning', async () => {
    await query(`CREATE TABLE layers.pre_not_cleaned (wkb_geometry geometry(Point, 4326))`);
    await query(`INSERT INTO layers.pre_not_cleaned VALUES ('SRID=4326;POINT(1e300 10)'), ('SRID=4326;POINT(500 10)'), ('SRID=4326;POINT(2.35 48.85)')`);
    await query(`CREATE INDEX ON layers.pre_not_cleaned USING gist (ST_Transform(wkb_geometry, 3857)) WHERE ${webMercatorPredicate('wkb_geometry')}`);
    expect(await indexes('pre_not_cleaned')).toHaveLength(1);
  });

  it('keeps every feature within range, the edges included', async () => {
    const layer = await open('edges', [
      { lon: -180, lat: -90, name: 'south-west corner' },
      { lon: 180, lat: 90, name: 'north-east corner' },
      { lon: 179.99999999, lat: 0, name: 'almost the antimeridian' },
    ]);
    expect(await imports.importLayer(layer, 'pre_edges')).toEqual({ recoveries: [], droppedFeatures: 0 });
    expect((await query<{ n: number }>(`SELECT count(*)::int AS n FROM layers.pre_edges`))[0].n).toBe(3);
    expect(await indexes('pre_edges')).toEqual(['pre_edges_3857', 'pre_edges_geom', 'pre_edges_pkey']);
  });
});
