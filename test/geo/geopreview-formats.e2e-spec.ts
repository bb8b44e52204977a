import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pointsFile, waitFor } from '../../libs/testing/src/index.js';
import { freshFolder, geojson, HDX_FIXTURES, hdxFixture, kml, SAMPLE_POINTS, writeLayers, zip, zipFolder } from './geo-files.js';
import type { Commands } from '#shared';
import { GeopreviewHarness } from './geopreview-harness.js';

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
    for (const name of HDX_FIXTURES) geo.files.routes.set(`/fixtures/${name}`, await hdxFixture(name));
  });

  afterAll(() => geo.stop());

  afterEach(async () => {
    expect(await geo.scratchLeft()).toEqual([]);
    expect(await geo.stagingTables()).toEqual([]);
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

  it('fans a GeoPackage of several layers out, one subtask per layer reading a shared copy; merges them; imports the layer a command names', async () => {
    const path = join(work, 'two.gpkg');
    writeLayers('GPKG', path, [
      { name: 'cities', points: SAMPLE_POINTS },
      { name: 'origin', points: [{ lon: 0, lat: 0, name: 'zero' }] },
    ]);
    geo.files.routes.set('/two.gpkg', await readFile(path));
    const fanout = await geo.expectFanout(geo.files.url('/two.gpkg'), { resourceId: 'gpkg' });
    expect(fanout.subtasks.map((subtask) => [subtask.type, subtask.input.layer])).toEqual([
      ['geo.preview.layer', 'cities'],
      ['geo.preview.layer', 'origin'],
    ]);
    const shared = String(fanout.subtasks[0].input.url);
    expect(shared).toBe(`storage://geopreview/${fanout.jobId}/two.gpkg`);
    expect(await readFile(join(geo.storageDir, 'geopreview', fanout.jobId, 'two.gpkg'))).toEqual(await readFile(path));
    expect(fanout.merge).toMatchObject({
      type: 'geo.preview.merge',
      always: true,
      input: { resourceId: 'gpkg', layers: ['cities', 'origin'], sharedPrefix: `geopreview/${fanout.jobId}/` },
    });

    // the subtasks and the merge, as the saga coordinator would send them
    const layers = [];
    for (const subtask of fanout.subtasks)
      layers.push(await geo.runSuccess('geo.preview', { jobId: randomUUID(), ...(subtask.input as { datasetId: string; resourceId: string; url: string }) }));
    expect(layers.map((layer) => [layer.layerId, layer.featureCount, layer.sourceLayer])).toEqual([
      ['pre_gpkg__cities', 3, 'cities'],
      ['pre_gpkg__origin', 1, 'origin'],
    ]);
    const merge = fanout.merge!.input as unknown as Commands['geo.preview.merge'];
    const merged = await geo.runSuccess('geo.preview.merge', { ...merge, jobId: randomUUID(), saga: { parentId: fanout.jobId, subtasks: 2 } });
    expect(merged.layerId).toBe('pre_gpkg__cities');
    expect(merged.layers.map((layer: { layerId: string; featureCount: number }) => [layer.layerId, layer.featureCount])).toEqual([
      ['pre_gpkg__cities', 3],
      ['pre_gpkg__origin', 1],
    ]);
    expect(existsSync(join(geo.storageDir, 'geopreview', fanout.jobId))).toBe(false);

    const one = await geo.expectSuccess(geo.files.url('/two.gpkg'), { resourceId: 'gpkg-one', layer: 'origin' });
    expect(one).toMatchObject({ layerId: 'pre_gpkg_one__origin', featureCount: 1, sourceLayer: 'origin', bounding_box: 'BOX(0 0,0 0)' });
  });

  it('a merge told of failed layers fails with their errors (and still removes the shared copy)', async () => {
    const jobId = randomUUID();
    const sharedPrefix = `geopreview/${jobId}/`;
    await mkdir(join(geo.storageDir, 'geopreview', jobId), { recursive: true });
    await writeFile(join(geo.storageDir, 'geopreview', jobId, 'upload.zip'), 'shared');
    const outcome = await geo.run('geo.preview.merge', {
      jobId: randomUUID(),
      datasetId: 'dataset-1',
      resourceId: 'merge-failed',
      url: 'http://example.org/upload.zip',
      layers: ['a', 'b'],
      sharedPrefix,
      saga: {
        parentId: jobId,
        subtasks: 2,
        errors: [{ jobId: randomUUID(), type: 'import', class: 'LayerImportError', message: 'could not import layer "b"' }],
      },
    });
    expect(outcome.state === 'failed' && outcome.error).toEqual({
      type: 'import',
      class: 'LayerImportError',
      message: `the upload's 2 layers could not all be previewed: could not import layer "b"`,
    });
    expect(existsSync(join(geo.storageDir, 'geopreview', jobId))).toBe(false);
  });

  it('imports a zipped FileGDB (written by GDAL 3.6 OpenFileGDB)', async () => {
    const gdb = join(work, 'cities.gdb');
    writeLayers('OpenFileGDB', gdb, [{ name: 'cities', points: SAMPLE_POINTS }]);
    geo.files.routes.set('/cities.gdb.zip', zip(await zipFolder(gdb, 'cities.gdb/')));
    const result = await geo.expectSuccess(geo.files.url('/cities.gdb.zip'));
    expect(result).toMatchObject({ featureCount: 3, sourceLayer: 'cities' });
  });

  it('fans a zip holding several shapefiles in nested folders out, one layer each', async () => {
    const folder = await freshFolder(join(work, 'nested'));
    writeLayers('ESRI Shapefile', join(folder, 'a'), [{ name: 'cities', points: SAMPLE_POINTS }]);
    writeLayers('ESRI Shapefile', join(folder, 'b', 'deeper'), [{ name: 'origin', points: [{ lon: 0, lat: 0, name: 'zero' }] }]);
    geo.files.routes.set('/nested.zip', zip(await zipFolder(folder, 'top/')));
    const fanout = await geo.expectFanout(geo.files.url('/nested.zip'), { resourceId: 'nested' });
    expect(fanout.subtasks.map((subtask) => subtask.input.layer)).toEqual(['top/a/cities.shp:cities', 'top/b/deeper/origin.shp:origin']);
    const layers = [];
    for (const subtask of fanout.subtasks)
      layers.push(await geo.runSuccess('geo.preview', { jobId: randomUUID(), ...(subtask.input as { datasetId: string; resourceId: string; url: string }) }));
    expect(layers.map((layer) => [layer.sourceLayer, layer.featureCount])).toEqual([
      ['top/a/cities.shp:cities', 3],
      ['top/b/deeper/origin.shp:origin', 1],
    ]);
  });

  it('imports the same file for the same resource once: a second job finds the import cached, a changed file or a dropped table imports again', async () => {
    const statusOf = (result: Record<string, any>) =>
      Object.fromEntries((result.steps as { name: string; status: string }[]).map((step) => [step.name, step.status]));
    geo.files.routes.set('/cached.geojson', Buffer.from(geojson(SAMPLE_POINTS)));
    const first = await geo.expectSuccess(geo.files.url('/cached.geojson'), { resourceId: 'cached' });
    expect(statusOf(first)).toEqual({ download: 'done', unpack: 'not-applicable', open: 'done', share: 'not-applicable', import: 'done', describe: 'done' });
    await geo.query(`INSERT INTO layers."pre_cached" (name) VALUES ('marker')`); // would vanish if the table were imported again

    const second = await geo.expectSuccess(geo.files.url('/cached.geojson'), { resourceId: 'cached' });
    expect(statusOf(second)).toMatchObject({ download: 'done', import: 'cached', describe: 'cached' });
    expect(second).toMatchObject({ layerId: 'pre_cached', featureCount: first.featureCount });
    expect((await geo.query(`SELECT count(*)::int AS n FROM layers."pre_cached" WHERE name = 'marker'`))[0].n).toBe(1);

    geo.files.routes.set('/cached.geojson', Buffer.from(geojson(SAMPLE_POINTS.slice(0, 2))));
    const changed = await geo.expectSuccess(geo.files.url('/cached.geojson'), { resourceId: 'cached' });
    expect(statusOf(changed)).toMatchObject({ import: 'done', describe: 'done' });
    expect(changed.featureCount).toBe(2);

    geo.files.routes.set('/cached.geojson', Buffer.from(geojson(SAMPLE_POINTS)));
    await geo.expectSuccess(geo.files.url('/cached.geojson'), { resourceId: 'cached' }); // back to the first file: cached by content…
    const back = await geo.expectSuccess(geo.files.url('/cached.geojson'), { resourceId: 'cached' });
    expect(statusOf(back)).toMatchObject({ import: 'cached' });
    await geo.query(`DROP TABLE layers."pre_cached"`);
    const dropped = await geo.expectSuccess(geo.files.url('/cached.geojson'), { resourceId: 'cached' });
    expect(statusOf(dropped)).toMatchObject({ import: 'done' });
    expect(dropped.featureCount).toBe(SAMPLE_POINTS.length);
  });

  it('stops a cancelled job in the middle of its import: nothing imported, nothing reported, the service goes on', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'geojobs-cancel-'));
    const { path } = await pointsFile(folder, 300_000);
    geo.files.routes.set('/big.geojson', await readFile(path));
    await rm(folder, { recursive: true, force: true });
    const jobId = randomUUID();
    await geo.broker.publishCommand(
      'geo.preview',
      { jobId, datasetId: 'dataset-1', resourceId: 'cancelled', url: geo.files.url('/big.geojson') },
      { correlationId: jobId },
    );
    const ofJob = () => geo.events.envelopes<Record<string, any>>().filter((event) => event.payload.jobId === jobId);
    await waitFor(() => ofJob().find((event) => event.type === 'job.progress' && String(event.payload.message).startsWith('import')), 'the import to start', {
      timeoutMs: 60_000,
    });
    await sleep(300); // well into GDAL's load
    await geo.broker.publishEvent('job.cancelled', { jobId }, { correlationId: jobId });

    const importing = async () => (await geo.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE 'geojobs-import-%'`))[0].n;
    await waitFor(async () => (await importing()) === 0, 'the import to stop within 5 s of the cancellation', { timeoutMs: 5_000 });
    await sleep(1_000);
    expect(ofJob().filter((event) => event.type === 'job.succeeded' || event.type === 'job.failed' || event.type === 'job.fanout')).toEqual([]);
    expect(await geo.stagingTables()).toEqual([]);
    expect((await geo.layerTables()).filter((table) => table === 'pre_cancelled')).toEqual([]);
    expect(await geo.scratchLeft()).toEqual([]);
    geo.files.routes.set('/after-cancel.geojson', geojson());
    expect(await geo.expectSuccess(geo.files.url('/after-cancel.geojson'), { resourceId: 'after-cancel' })).toMatchObject({ layerId: 'pre_after_cancel' });
  });

  it('assumes EPSG:4326 for a shapefile without .prj, and drops features out of lon/lat range, counting them', async () => {
    const folder = await freshFolder(join(work, 'noprj'));
    writeLayers('ESRI Shapefile', folder, [
      { name: 'pts', srs: false, points: [...SAMPLE_POINTS, { lon: 500, lat: 10, name: 'bad' }, { lon: 10, lat: -95, name: 'bad2' }] },
    ]);
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
