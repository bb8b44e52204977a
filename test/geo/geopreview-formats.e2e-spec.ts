import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshFolder, geojson, kml, SAMPLE_POINTS, writeLayers, zip, zipFolder } from './geo-files.js';
import { GeopreviewHarness } from './geopreview-harness.js';

const FIXTURES = process.env.GEOJOBS_GEO_FIXTURES ?? '/work/shared/fixtures/geofiles';

/** `BOX(xmin ymin,xmax ymax)` → numbers. */
const boxOf = (text: string): number[] => {
  const match = /^BOX\((\S+) (\S+),(\S+) (\S+)\)$/.exec(text);
  if (!match) throw new Error(`not a PostGIS box: ${text}`);
  return match.slice(1).map(Number);
};
const expectBox = (actual: string, expected: string) => {
  const [a, e] = [boxOf(actual), boxOf(expected)];
  a.forEach((value, index) => expect(value).toBeCloseTo(e[index], 9));
};

describe('geopreview: every input format into PostGIS (real geo-service, RabbitMQ, PostgreSQL)', () => {
  const geo = new GeopreviewHarness();
  let work: string;

  beforeAll(async () => {
    await geo.start(() => ({ GEOJOBS_ALLOWED_HOSTS: '127.0.0.1' }));
    work = await mkdtemp(join(tmpdir(), 'geojobs-geo-files-'));
    for (const name of ['test.geojson', 'test.kml', 'test.shp.zip', 'test2.shp.zip']) {
      geo.files.routes.set(`/fixtures/${name}`, await readFile(join(FIXTURES, name)));
    }
  });

  afterAll(() => geo.stop());

  afterEach(async () => {
    expect(await geo.scratchLeft()).toEqual([]);
    expect((await geo.layerTables()).filter((table) => table.startsWith('stg_'))).toEqual([]);
  });

  it.each([
    ['test.geojson', 4, 'BOX(2.513573 49.529484,6.156658 51.475024)'],
    ['test.kml', 13, 'BOX(-48.8424580754653 61.049858673079,-42.2929468978678 66.2053550371775)'],
    ['test.shp.zip', 45, 'BOX(34.00334232 -4.40810323599999,41.81483496 4.47561039300001)'],
    ['test2.shp.zip', 7, 'BOX(-158.090073902174 21.2775052439187,-67.7811766716047 62.1452071164588)'],
  ])('imports the HDX fixture %s with %i fields and its bounding box', async (name, fieldCount, box) => {
    const result = await geo.expectSuccess(geo.files.url(`/fixtures/${name}`), { resourceId: `fixture-${name}` });
    expect(result.layer_fields).toHaveLength(fieldCount);
    expectBox(result.bounding_box, box);
    expect(result.srid).toBe(4326);
    const table = result.layerId as string;
    expect(table).toBe(`pre_fixture_${name.replace(/[^a-z0-9]/gi, '_')}`);
    const [row] = await geo.query(`SELECT ST_Extent(wkb_geometry)::text AS box, count(*)::int AS n FROM layers."${table}"`);
    expect(row).toEqual({ box: result.bounding_box, n: result.featureCount });
    const columns = await geo.query(
      `SELECT column_name AS field_name, data_type FROM information_schema.columns WHERE table_schema = 'layers' AND table_name = $1 ORDER BY ordinal_position`,
      [table],
    );
    expect(result.layer_fields).toEqual(columns);
    if (name === 'test2.shp.zip') {
      expect(result.recoveries).toContain('promote-to-multi');
      expect(result.geometryType).toBe('MULTILINESTRING');
    }
  });

  it('reports progress and publishes geo.layer.imported', async () => {
    geo.files.routes.set('/cities.geojson', geojson());
    const outcome = await geo.preview(geo.files.url('/cities.geojson'), { resourceId: 'events' });
    const types = outcome.events.map((event) => event.type);
    expect(types[0]).toBe('job.started');
    expect(types.filter((type) => type === 'job.progress').length).toBeGreaterThanOrEqual(5);
    const imported = outcome.events.find((event) => event.type === 'geo.layer.imported')!;
    expect(imported.payload).toMatchObject({ resourceId: 'events', layerId: 'pre_events', description: { featureCount: 3, geometryType: 'POINT' } });
    expect(types.at(-1)).toBe('job.succeeded');
  });

  it('imports KML and KMZ', async () => {
    geo.files.routes.set('/cities.kml', kml());
    geo.files.routes.set('/cities.kmz', zip([{ name: 'doc.kml', data: kml(), deflate: true }]));
    for (const path of ['/cities.kml', '/cities.kmz']) {
      const result = await geo.expectSuccess(geo.files.url(path));
      expect(result.featureCount).toBe(3);
      expectBox(result.bounding_box, 'BOX(-0.12 48.85,13.4 52.52)');
    }
  });

  it('imports CSV with longitude/latitude columns and with a WKT column', async () => {
    geo.files.routes.set('/lonlat.csv', `name,longitude,latitude\n${SAMPLE_POINTS.map((p) => `${p.name},${p.lon},${p.lat}`).join('\n')}\n`);
    geo.files.routes.set('/wkt.csv', `id;WKT;name\n1;"POLYGON ((0 0,1 0,1 1,0 0))";a\n2;"POLYGON ((2 2,3 2,3 3,2 2))";b\n`);
    const lonlat = await geo.expectSuccess(geo.files.url('/lonlat.csv'));
    expect(lonlat).toMatchObject({ featureCount: 3, geometryType: 'POINT', srid: 4326 });
    expectBox(lonlat.bounding_box, 'BOX(-0.12 48.85,13.4 52.52)');
    const wkt = await geo.expectSuccess(geo.files.url('/wkt.csv'));
    expect(wkt.featureCount).toBe(2);
    expect(wkt.bounding_box).toBe('BOX(0 0,3 3)');
  });

  it('imports a GeoPackage, every layer, or the one a command names', async () => {
    const path = join(work, 'two.gpkg');
    writeLayers('GPKG', path, [
      { name: 'cities', points: SAMPLE_POINTS },
      { name: 'origin', points: [{ lon: 0, lat: 0, name: 'zero' }] },
    ]);
    geo.files.routes.set('/two.gpkg', await readFile(path));
    const all = await geo.expectSuccess(geo.files.url('/two.gpkg'), { resourceId: 'gpkg' });
    expect(all.layers.map((layer: { layerId: string; featureCount: number }) => [layer.layerId, layer.featureCount])).toEqual([
      ['pre_gpkg__cities', 3],
      ['pre_gpkg__origin', 1],
    ]);
    const one = await geo.expectSuccess(geo.files.url('/two.gpkg'), { resourceId: 'gpkg-one', layer: 'origin' });
    expect(one).toMatchObject({ layerId: 'pre_gpkg_one__origin', featureCount: 1, sourceLayer: 'origin', bounding_box: 'BOX(0 0,0 0)' });
  });

  it('imports a zipped FileGDB (written by GDAL 3.6 OpenFileGDB)', async () => {
    const gdb = join(work, 'cities.gdb');
    writeLayers('OpenFileGDB', gdb, [{ name: 'cities', points: SAMPLE_POINTS }]);
    geo.files.routes.set('/cities.gdb.zip', zip(await zipFolder(gdb, 'cities.gdb/')));
    const result = await geo.expectSuccess(geo.files.url('/cities.gdb.zip'));
    expect(result).toMatchObject({ featureCount: 3, sourceLayer: 'cities' });
  });

  it('imports a zip holding several shapefiles in nested folders, one layer each', async () => {
    const folder = await freshFolder(join(work, 'nested'));
    writeLayers('ESRI Shapefile', join(folder, 'a'), [{ name: 'cities', points: SAMPLE_POINTS }]);
    writeLayers('ESRI Shapefile', join(folder, 'b', 'deeper'), [{ name: 'origin', points: [{ lon: 0, lat: 0, name: 'zero' }] }]);
    geo.files.routes.set('/nested.zip', zip(await zipFolder(folder, 'top/')));
    const result = await geo.expectSuccess(geo.files.url('/nested.zip'), { resourceId: 'nested' });
    expect(result.layers.map((layer: { sourceLayer: string; featureCount: number }) => [layer.sourceLayer, layer.featureCount])).toEqual([
      ['top/a/cities.shp:cities', 3],
      ['top/b/deeper/origin.shp:origin', 1],
    ]);
  });

  it('assumes EPSG:4326 for a shapefile without .prj, and drops features out of lon/lat range, counting them', async () => {
    const folder = await freshFolder(join(work, 'noprj'));
    writeLayers('ESRI Shapefile', folder, [{ name: 'pts', srs: false, points: [...SAMPLE_POINTS, { lon: 500, lat: 10, name: 'bad' }, { lon: 10, lat: -95, name: 'bad2' }] }]);
    geo.files.routes.set('/noprj.zip', zip(await zipFolder(folder)));
    const result = await geo.expectSuccess(geo.files.url('/noprj.zip'), { resourceId: 'noprj' });
    expect(result).toMatchObject({ featureCount: 3, droppedFeatures: 2, srid: 4326 });
    expect(result.recoveries).toContain('assume-epsg-4326');
    const [{ n }] = await geo.query(`SELECT count(*)::int AS n FROM layers."pre_noprj"`);
    expect(n).toBe(3);
  });

  it('reprojects to EPSG:4326', async () => {
    const mercator = JSON.stringify({
      type: 'FeatureCollection',
      crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::3857' } },
      features: [{ type: 'Feature', properties: { name: 'x' }, geometry: { type: 'Point', coordinates: [1113194.9079327357, 1118889.9748579594] } }],
    });
    geo.files.routes.set('/mercator.geojson', mercator);
    const result = await geo.expectSuccess(geo.files.url('/mercator.geojson'));
    expectBox(result.bounding_box, 'BOX(10 10,10 10)');
  });

  it('retries a latin1 file as latin1', async () => {
    geo.files.routes.set('/latin1.csv', Buffer.concat([Buffer.from('WKT,name\n"POINT (1 2)",caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    const result = await geo.expectSuccess(geo.files.url('/latin1.csv'), { resourceId: 'latin1' });
    expect(result.recoveries).toContain('latin1');
    const [{ name }] = await geo.query(`SELECT name FROM layers."pre_latin1"`);
    expect(name).toBe('café');
  });

  it('replaces the layer of a re-imported resource in one step', async () => {
    geo.files.routes.set('/one.geojson', geojson(SAMPLE_POINTS.slice(0, 1)));
    await geo.expectSuccess(geo.files.url('/one.geojson'), { resourceId: 'again' });
    const result = await geo.expectSuccess(geo.files.url('/cities.geojson'), { resourceId: 'again' });
    expect(result.featureCount).toBe(3);
    const [{ n }] = await geo.query(`SELECT count(*)::int AS n FROM layers."pre_again"`);
    expect(n).toBe(3);
    expect((await geo.layerTables()).filter((table) => table.startsWith('pre_again'))).toEqual(['pre_again']);
    // the gateway's read-only role can read the new table (default privileges follow the swap)
    const [{ allowed }] = await geo.query(`SELECT has_table_privilege('geojobs_layers_reader', 'layers."pre_again"', 'SELECT') AS allowed`);
    expect(allowed).toBe(true);
  });
});
