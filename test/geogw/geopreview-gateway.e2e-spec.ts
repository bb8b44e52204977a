import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import pg from 'pg';
import { waitFor } from '../../libs/testing/src/index.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { Client } from '../harness/http.js';
import { waitForJob, type Job } from '../harness/jobs.js';
import { startService, storageDir, type RunningService } from '../harness/services.js';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { FileServer, HDX_FIXTURES, hdxFixture, SAMPLE_POINTS, writeLayers } from '../geo/geo-files.js';
import { CkanServer } from './ckan-server.js';

const CKAN_KEY = 'portal-secret-key';
const UPDATE_PATH = '/api/3/action/hdx_resource_update_metadata';

/** The result of a multi-layer preview: its saga's, with the merge step's description of every layer. */
interface PreviewSagaResult {
  children: { total: number; succeeded: number; failed: number; cancelled: number };
  merge: { layers: { layerId: string; featureCount: number }[] };
}

const boxOf = (text: string): number[] => {
  const match = /^BOX\((\S+) (\S+),(\S+) (\S+)\)$/.exec(text);
  if (!match) throw new Error(`not a PostGIS box: ${text}`);
  return match.slice(1).map(Number);
};

/** The tile (x, y) holding a longitude/latitude at a zoom (slippy map numbering). */
const tileOf = (lon: number, lat: number, z: number) => {
  const n = 2 ** z;
  const rad = (lat * Math.PI) / 180;
  return { z, x: Math.floor(((lon + 180) / 360) * n), y: Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n) };
};

describe('geopreview through the gateway: HDX add-layer, CKAN callback, layers, vector tiles (real services, RabbitMQ, PostGIS)', () => {
  let context: TestContext;
  let gateway: RunningService;
  let privateGateway: RunningService;
  let geo: RunningService;
  const files = new FileServer();
  const ckan = new CkanServer();
  let admin: Client;
  let portalKey: string;
  let database: pg.Client;
  const layerOf = new Map<string, string>();

  beforeAll(async () => {
    context = await createTestContext();
    await files.start();
    await ckan.start();
    geo = await startService('geo-service', context, {
      GEOJOBS_ALLOWED_HOSTS: '127.0.0.1',
      CKAN_API_BASE_URL: ckan.url('/api/3/action'),
      CKAN_API_KEY: CKAN_KEY,
      GEOJOBS_GEO_CALLBACK_RETRY_BASE_MS: '50',
    });
    gateway = await startService('gateway', context);
    privateGateway = await startService('gateway', context, { GEOJOBS_PUBLIC_TILES: 'false' });
    admin = await Client.admin(gateway);
    const created = await admin.post<{ key: string }>('/api-keys', { name: 'hdx-portal', role: 'portal' });
    expect(created.status).toBe(201);
    portalKey = created.body.key;
    database = new pg.Client({ connectionString: context.databaseUrls.admin });
    await database.connect();
    for (const name of HDX_FIXTURES) files.routes.set(`/fixtures/${name}`, await hdxFixture(name));
  });

  afterAll(async () => {
    await Promise.all([gateway, privateGateway, geo].map((service) => service?.stop()));
    await database?.end();
    await files.close();
    await ckan.close();
    await context?.dispose();
  });

  const anonymous = () => new Client(gateway.url);
  const addLayer = (resourceId: string, url: string, key?: string) =>
    anonymous().get<Record<string, string>>(
      `/api/add-layer/dataset/dataset-1/resource/${resourceId}?resource_download_url=${encodeURIComponent(url)}&url_type=upload${key ? `&key=${key}` : ''}`,
    );
  const callbackFor = async (resourceId: string, timeoutMs = 60_000) => {
    const [received] = await waitFor(
      () => {
        const found = ckan.delivered(UPDATE_PATH, (body) => body.id === resourceId);
        return found.length > 0 && found;
      },
      `the CKAN callback of ${resourceId}`,
      { timeoutMs },
    );
    const body = JSON.parse(received.raw) as { id: string; shape_info: string; batch_mode: string };
    return { received, body, shapeInfo: JSON.parse(body.shape_info) as Record<string, any> };
  };

  it('previews an upload of several layers as a saga: one subtask per layer, then the merge, then one CKAN callback', async () => {
    const resourceId = `multi-${randomUUID().slice(0, 8)}`;
    const path = join(await mkdtemp(join(tmpdir(), 'geojobs-multi-')), 'two.gpkg');
    writeLayers('GPKG', path, [
      { name: 'cities', points: SAMPLE_POINTS },
      { name: 'origin', points: [{ lon: 0, lat: 0, name: 'zero' }] },
    ]);
    files.routes.set('/two.gpkg', await readFile(path));
    expect((await addLayer(resourceId, files.url('/two.gpkg'), portalKey)).body.state).toBe('processing');

    const { shapeInfo } = await callbackFor(resourceId);
    expect(shapeInfo).toMatchObject({ state: 'success', layer_id: `pre_${resourceId.replace(/-/g, '_')}__cities` });
    const listed = await admin.get<Job[]>('/jobs?type=geo.preview&limit=100');
    const parent = listed.body.find((job) => (job as Job & { input: { resourceId: string } }).input.resourceId === resourceId)!;
    const job = await waitForJob<PreviewSagaResult>(admin, parent.id);
    expect(job.state).toBe('succeeded');
    expect(job.result).toMatchObject({ children: { total: 2, succeeded: 2, failed: 0, cancelled: 0 } });
    expect(job.result!.merge.layers.map((layer: { layerId: string; featureCount: number }) => [layer.layerId, layer.featureCount])).toEqual([
      [`pre_${resourceId.replace(/-/g, '_')}__cities`, 3],
      [`pre_${resourceId.replace(/-/g, '_')}__origin`, 1],
    ]);

    const tree = (await admin.get<{ children: { type: string; state: string; progress: { message: string } }[] }>(`/jobs/${parent.id}/tree`)).body;
    expect(tree.children.map((child) => [child.type, child.state])).toEqual([
      ['geo.preview.layer', 'succeeded'],
      ['geo.preview.layer', 'succeeded'],
      ['geo.preview.merge', 'succeeded'],
    ]);
    for (const layer of job.result!.merge.layers as { layerId: string }[]) expect((await admin.get(`/layers/${layer.layerId}`)).status).toBe(200);
    // the upload the subtasks shared is gone, and the portal heard once
    expect(existsSync(join(storageDir(context), 'geopreview', parent.id))).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ckan.delivered(UPDATE_PATH, (body) => body.id === resourceId)).toHaveLength(1);
  });

  it('refuses the HDX endpoints without a key (401), and with a wrong one', async () => {
    expect((await addLayer('no-key', files.url('/fixtures/test.geojson'))).status).toBe(401);
    expect((await addLayer('bad-key', files.url('/fixtures/test.geojson'), 'not-a-key')).status).toBe(401);
    expect((await anonymous().post('/api/delete-one-layer/no-key')).status).toBe(401);
    expect((await anonymous().post('/geopreview', { datasetId: 'd', resourceId: 'r', url: 'http://x/y.geojson' })).status).toBe(401);
    expect((await anonymous().get('/layers/pre_anything')).status).toBe(401);
  });

  it.each([
    ['test.geojson', 4, 'BOX(2.513573 49.529484,6.156658 51.475024)'],
    ['test.kml', 13, 'BOX(-48.8424580754653 61.049858673079,-42.2929468978678 66.2053550371775)'],
    ['test.shp.zip', 45, 'BOX(34.00334232 -4.40810323599999,41.81483496 4.47561039300001)'],
    ['test2.shp.zip', 7, 'BOX(-158.090073902174 21.2775052439187,-67.7811766716047 62.1452071164588)'],
  ])('previews the HDX fixture %s: answers "processing" at once, then the portal gets shape_info with %i fields', async (name, fieldCount, box) => {
    const resourceId = `res-${name.replace(/\W/g, '-')}-${randomUUID().slice(0, 8)}`;
    const answer = await addLayer(resourceId, files.url(`/fixtures/${name}`), portalKey);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      state: 'processing',
      message: 'The processing of the geo-preview has started',
      layer_id: 'None',
      error_type: 'None',
      error_class: 'None',
    });

    const { received, body, shapeInfo } = await callbackFor(resourceId);
    expect(received.headers.authorization).toBe(CKAN_KEY);
    expect(received.headers['content-type']).toBe('application/json');
    // as HDX's Python job processor wrote it: json.dumps separators, shape_info a JSON string inside
    expect(received.raw.startsWith(`{"id": "${resourceId}", "shape_info": "{\\"state\\": \\"success\\", `)).toBe(true);
    expect(received.raw.endsWith(', "batch_mode": "KEEP_OLD"}')).toBe(true);
    expect(body.batch_mode).toBe('KEEP_OLD');
    expect(Object.keys(shapeInfo)).toEqual(['state', 'message', 'layer_id', 'error_type', 'error_class', 'bounding_box', 'layer_fields']);
    expect(shapeInfo).toMatchObject({ state: 'success', message: 'Import successful', error_type: 'None', error_class: 'None' });
    expect(shapeInfo.layer_fields).toHaveLength(fieldCount);
    expect(Object.keys(shapeInfo.layer_fields[0])).toEqual(['field_name', 'data_type']);
    boxOf(shapeInfo.bounding_box).forEach((value, index) => expect(value).toBeCloseTo(boxOf(box)[index], 9));
    const layerId = shapeInfo.layer_id as string;
    expect(layerId).toBe(`pre_${resourceId.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`);
    layerOf.set(name, layerId);

    // the same description from the gateway, read through its read-only role
    const described = await admin.get<Record<string, any>>(`/layers/${layerId}`);
    expect(described.status).toBe(200);
    expect(described.body).toMatchObject({
      layerId,
      bounding_box: shapeInfo.bounding_box,
      layer_fields: shapeInfo.layer_fields,
      srid: 4326,
      geometryColumn: 'wkb_geometry',
    });
    expect(described.body.featureCount).toBeGreaterThan(0);
    // the Web Mercator GiST index the tiles use was built at import time
    const indexes = await database.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'layers' AND tablename = $1`, [layerId]);
    expect(indexes.rows.some((row) => /gist \(st_transform\(wkb_geometry, 3857\)\)/i.test(row.indexdef))).toBe(true);
  });

  it('sends a failure shape_info for a file that is not what it says', async () => {
    files.routes.set('/broken.geojson', 'this is not GeoJSON at all');
    const resourceId = `broken-${randomUUID().slice(0, 8)}`;
    expect((await addLayer(resourceId, files.url('/broken.geojson'), portalKey)).body.state).toBe('processing');
    const { received, shapeInfo } = await callbackFor(resourceId);
    expect(Object.keys(shapeInfo)).toEqual(['state', 'message', 'layer_id', 'error_type', 'error_class']);
    expect(shapeInfo).toMatchObject({ state: 'failure', layer_id: `pre_${resourceId.replace(/-/g, '_')}`, error_type: 'format' });
    expect(shapeInfo.error_class).toMatch(/Error$/);
    expect(shapeInfo.message.length).toBeGreaterThan(0);
    expect(received.headers.authorization).toBe(CKAN_KEY);
  });

  it("answers HDX's failure shape at once when the download URL is missing", async () => {
    const answer = await anonymous().get<Record<string, string>>(`/api/add-layer/dataset/d/resource/r?key=${portalKey}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      state: 'failure',
      message: 'Url missing or has a problem',
      layer_id: 'None',
      error_type: 'transformation-init-problem',
      error_class: 'MissingUrlException',
    });
  });

  it('retries the CKAN callback after 5xx answers', async () => {
    ckan.failures.set(UPDATE_PATH, [503, 502]);
    const resourceId = `retried-${randomUUID().slice(0, 8)}`;
    await addLayer(resourceId, files.url('/fixtures/test.geojson'), portalKey);
    const { shapeInfo } = await callbackFor(resourceId);
    expect(shapeInfo.state).toBe('success');
    const attempts = ckan.received.filter((item) => item.path === UPDATE_PATH && JSON.parse(item.raw).id === resourceId);
    expect(attempts.map((item) => item.status)).toEqual([503, 502, 200]);
  });

  it('POST /geopreview answers 202 with the job and POSTs the finished job to callbackUrl', async () => {
    const reply = await admin.post<Job>('/geopreview', {
      datasetId: 'd1',
      resourceId: `native-${randomUUID().slice(0, 8)}`,
      url: files.url('/fixtures/test.geojson'),
      callbackUrl: ckan.url('/hooks/done'),
    });
    expect(reply.status).toBe(202);
    expect(reply.body).toMatchObject({ type: 'geo.preview', state: 'queued' });
    const [hook] = await waitFor(() => {
      const found = ckan.delivered('/hooks/done', (body) => body.id === reply.body.id);
      return found.length > 0 && found;
    }, 'the callbackUrl POST');
    const posted = JSON.parse(hook.raw);
    expect(posted).toMatchObject({ id: reply.body.id, type: 'geo.preview', state: 'succeeded', error: null });
    expect(posted.result.layer_fields).toHaveLength(4);
    const job = await waitForJob(admin, reply.body.id);
    expect(job.state).toBe('succeeded');
    expect(job.result).toMatchObject({ featureCount: posted.result.featureCount });
    // a bad body is a 400 naming the field
    expect((await admin.post('/geopreview', { datasetId: 'd1', resourceId: 'r', url: 'x', callbackUrl: 'ftp://nope' })).status).toBe(400);
    // storage is read by geojobs' own subtasks only: a caller cannot name another owner's file there
    const fromStorage = await admin.post<{ message: string[] }>('/jobs', {
      type: 'geo.preview',
      input: { datasetId: 'd1', resourceId: 'r', url: 'storage://geopreview/x/y.zip' },
    });
    expect(fromStorage.status).toBe(400);
    expect(fromStorage.body.message).toEqual(['input.url: must be an http(s) URL']);
    expect(
      (await admin.post('/jobs', { type: 'geo.preview.layer', input: { datasetId: 'd1', resourceId: 'r', url: 'storage://a/b.zip', layer: 'x' } })).status,
    ).toBe(400);
  });

  it('serves a previewed layer as Mapbox Vector Tiles holding its features in that tile', async () => {
    const layerId = layerOf.get('test.shp.zip')!;
    const [box] = (
      await database.query(`SELECT ST_X(c) AS lon, ST_Y(c) AS lat FROM (SELECT ST_Centroid(ST_Extent(wkb_geometry)) c FROM layers."${layerId}") t`)
    ).rows;
    const { z, x, y } = tileOf(box.lon, box.lat, 5);
    const reply = await fetch(`${gateway.url}/layers/${layerId}/tiles/${z}/${x}/${y}.mvt`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/vnd.mapbox-vector-tile');
    expect(reply.headers.get('cache-control')).toMatch(/^public, max-age=\d+/);
    const etag = reply.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    const bytes = Buffer.from(await reply.arrayBuffer());
    const tile = new VectorTile(new PbfReader(bytes));
    expect(Object.keys(tile.layers)).toEqual([layerId]);
    const layer = tile.layers[layerId];
    expect(layer.extent).toBe(4096);

    // every feature inside the tile is in it; nothing from beyond its 64-pixel buffer is
    const inside = await database.query(
      `SELECT ogc_fid FROM layers."${layerId}" WHERE ST_Intersects(ST_Transform(wkb_geometry, 3857), ST_TileEnvelope($1, $2, $3)) ORDER BY ogc_fid`,
      [z, x, y],
    );
    const nearby = await database.query(
      `SELECT ogc_fid FROM layers."${layerId}" WHERE ST_Intersects(ST_Transform(wkb_geometry, 3857), ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096))`,
      [z, x, y],
    );
    const ids = Array.from({ length: layer.length }, (_, index) => Number(layer.feature(index).id)).sort((a, b) => a - b);
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(inside.rows.map((row) => row.ogc_fid)));
    const allowed = new Set(nearby.rows.map((row) => row.ogc_fid));
    expect(ids.filter((id) => !allowed.has(id))).toEqual([]);
    const columns = (
      await database.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'layers' AND table_name = $1`, [layerId])
    ).rows
      .map((row) => row.column_name)
      .filter((name) => !['ogc_fid', 'wkb_geometry'].includes(name));
    const feature = layer.feature(0);
    expect(Object.keys(feature.properties).every((name) => columns.includes(name))).toBe(true);
    const [row] = (await database.query(`SELECT * FROM layers."${layerId}" WHERE ogc_fid = $1`, [feature.id])).rows;
    for (const [name, value] of Object.entries(feature.properties)) expect(String(value)).toBe(String(row[name]));
    const geojson = feature.toGeoJSON(x, y, z);
    expect(geojson.geometry.type).toMatch(/Polygon|LineString|Point/);

    // HDX's path serves the same tile
    const hdx = await fetch(`${gateway.url}/gis/services/postgis/${layerId}/wkb_geometry/vector-tiles/${z}/${x}/${y}.pbf`);
    expect(hdx.status).toBe(200);
    expect(Buffer.from(await hdx.arrayBuffer()).equals(bytes)).toBe(true);
    expect(hdx.headers.get('etag')).toBe(etag);
    expect((await fetch(`${gateway.url}/gis/services/postgis/${layerId}/the_geom/vector-tiles/${z}/${x}/${y}.pbf`)).status).toBe(404);

    // If-None-Match → 304 with no body
    const again = await fetch(`${gateway.url}/layers/${layerId}/tiles/${z}/${x}/${y}.mvt`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect((await again.arrayBuffer()).byteLength).toBe(0);

    // a tile with nothing in it is empty; a bad address is 400; an unknown layer 404
    const far = tileOf(-120, -60, 8);
    const empty = await fetch(`${gateway.url}/layers/${layerId}/tiles/8/${far.x}/${far.y}.mvt`);
    expect(empty.status).toBe(200);
    expect((await empty.arrayBuffer()).byteLength).toBe(0);
    expect((await fetch(`${gateway.url}/layers/${layerId}/tiles/3/8/0.mvt`)).status).toBe(400);
    expect((await fetch(`${gateway.url}/layers/${layerId}/tiles/99/0/0.mvt`)).status).toBe(400);
    expect((await fetch(`${gateway.url}/layers/pre_nothing_here/tiles/0/0/0.mvt`)).status).toBe(404);
    expect((await fetch(`${gateway.url}/layers/step_cache/tiles/0/0/0.mvt`)).status).toBe(404);
  });

  it('answers public tiles ahead of Express as TilesController does, with one log line and one metrics sample per request', async () => {
    const layerId = layerOf.get('test.shp.zip')!;
    const logged = await startService('gateway', context, { GEOJOBS_LOG_LEVEL: 'debug' });
    const answeredAhead = new Set<number>();
    try {
      let sent = 0;
      const get = (path: string, headers: Record<string, string> = {}) => {
        sent++;
        return fetch(`${logged.url}${path}`, { headers: { 'x-correlation-id': `tile-${sent}`, ...headers } });
      };
      const sameHeaders = (reply: Response) => Object.fromEntries([...reply.headers].filter(([name]) => !['date', 'x-correlation-id'].includes(name)));
      // a plain tile path is answered ahead of Express; with a query string (or any other spelling) it goes through
      // Express and Nest to TilesController
      for (const path of [`/layers/${layerId}/tiles/0/0/0.mvt`, `/gis/services/postgis/${layerId}/wkb_geometry/vector-tiles/0/0/0.pbf`]) {
        const ahead = await get(path);
        answeredAhead.add(sent);
        const routed = await get(`${path}?via=express`);
        expect(ahead.status).toBe(200);
        expect(routed.status).toBe(200);
        expect(sameHeaders(ahead)).toEqual(sameHeaders(routed));
        expect(ahead.headers.get('x-correlation-id')).toBe(`tile-${sent - 1}`);
        expect(ahead.headers.get('x-powered-by')).toBeNull();
        expect(Buffer.from(await ahead.arrayBuffer()).equals(Buffer.from(await routed.arrayBuffer()))).toBe(true);
        const etag = ahead.headers.get('etag')!;
        for (const spelling of [path, `${path}?via=express`]) {
          const again = await get(spelling, { 'if-none-match': etag });
          if (spelling === path) answeredAhead.add(sent);
          expect(again.status).toBe(304);
          expect(sameHeaders(again)).toMatchObject({ etag, 'cache-control': ahead.headers.get('cache-control') });
        }
      }
      // what the route ahead does not answer with a tile, Express and the controller do, as they always have
      for (const path of [
        `/layers/${layerId}/tiles/3/8/0.mvt`,
        `/layers/pre_nothing_here/tiles/0/0/0.mvt`,
        `/gis/services/postgis/${layerId}/the_geom/vector-tiles/0/0/0.pbf`,
      ]) {
        const handedOn = await get(path);
        const routed = await get(`${path}?via=express`);
        expect([400, 404]).toContain(handedOn.status);
        expect(handedOn.status).toBe(routed.status);
        expect(await handedOn.json()).toEqual(await routed.json());
      }

      // one log line per request, each carrying its correlation id, whichever way it went: at debug level for a tile
      // answered ahead (a map asks for dozens), at info (pino-http's) for every request Express answered
      const lines = await waitFor(() => {
        const found = logged
          .output()
          .split('\n')
          .filter((line) => line.includes('"request completed"'))
          .map((line) => JSON.parse(line) as { level: number; req: { id: string; url: string }; res: { statusCode: number } })
          .filter((line) => line.req.id.startsWith('tile-'));
        return found.length >= sent && found;
      }, 'a log line for each tile request');
      expect(lines.map((line) => line.req.id).sort()).toEqual(Array.from({ length: sent }, (_, index) => `tile-${index + 1}`).sort());
      expect(answeredAhead.size).toBe(4);
      for (const line of lines) expect([line.req.id, line.level]).toEqual([line.req.id, answeredAhead.has(Number(line.req.id.slice(5))) ? 20 : 30]);
      // and one sample each in the HTTP metrics, under the route's pattern
      const loggedAdmin = await Client.admin(logged);
      const metrics = (await loggedAdmin.get<string>('/metrics')).body;
      const samples = (route: string, status: number) =>
        Number(
          metrics
            .split('\n')
            .find(
              (line) =>
                line.startsWith('geojobs_http_request_duration_seconds_count{') && line.includes(`route="${route}"`) && line.includes(`status="${status}"`),
            )
            ?.split(' ')
            .pop() ?? 0,
        );
      for (const route of ['/layers/:id/tiles/:z/:x/:y.mvt', '/gis/services/postgis/:id/:column/vector-tiles/:z/:x/:y.pbf']) {
        expect(samples(route, 200)).toBe(2);
        expect(samples(route, 304)).toBe(2);
      }
      expect(samples('/layers/:id/tiles/:z/:x/:y.mvt', 400) + samples('/layers/:id/tiles/:z/:x/:y.mvt', 404)).toBe(4);
      expect(samples('/gis/services/postgis/:id/:column/vector-tiles/:z/:x/:y.pbf', 404)).toBe(2);

      // no credential in the log: neither the admin's bearer token nor a key in the query
      await fetch(`${logged.url}/layers/${layerId}/tiles/0/0/0.mvt?key=not-for-the-log`);
      await waitFor(() => logged.output().includes('"url":"/layers/' + layerId + '/tiles/0/0/0.mvt?key=[redacted]"'), 'the redacted line');
      expect(logged.output()).not.toContain('not-for-the-log');
      expect(logged.output()).not.toContain(loggedAdmin.authorization!.replace(/^Bearer /, ''));
    } finally {
      await logged.stop();
    }
  });

  it('asks for a credential for tiles when GEOJOBS_PUBLIC_TILES=false', async () => {
    const layerId = layerOf.get('test.geojson')!;
    const path = `/layers/${layerId}/tiles/0/0/0.mvt`;
    expect((await fetch(`${privateGateway.url}${path}`)).status).toBe(401);
    expect((await fetch(`${privateGateway.url}/gis/services/postgis/${layerId}/wkb_geometry/vector-tiles/0/0/0.pbf`)).status).toBe(401);
    const withToken = await fetch(`${privateGateway.url}${path}`, { headers: { authorization: admin.authorization! } });
    expect(withToken.status).toBe(200);
    expect(withToken.headers.get('cache-control')).toMatch(/^private/);
    const privateAdmin = await Client.admin(privateGateway);
    const scoped = await privateAdmin.post<{ access_token: string }>('/tokens/temporary', { methods: ['GET'], paths: [`/layers/${layerId}/tiles`] });
    expect(scoped.status).toBe(200);
    const tmp = { authorization: `TmpToken ${scoped.body.access_token}` };
    expect((await fetch(`${privateGateway.url}${path}`, { headers: tmp })).status).toBe(200);
    expect((await fetch(`${privateGateway.url}/layers/${layerOf.get('test.kml')}/tiles/0/0/0.mvt`, { headers: tmp })).status).toBe(403);
    // the public gateway needs none
    expect((await fetch(`${gateway.url}${path}`)).status).toBe(200);
  });

  it('deletes layers: DELETE /layers/:id and HDX delete-one-layer, through geo-service', async () => {
    const layerId = layerOf.get('test.kml')!;
    const deleted = await admin.request<Job>('DELETE', `/layers/${layerId}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ type: 'geo.layer.delete', state: 'succeeded', result: { deleted: [layerId] } });
    expect((await admin.get(`/layers/${layerId}`)).status).toBe(404);
    expect((await admin.request('DELETE', `/layers/${layerId}`)).status).toBe(404);
    expect((await database.query(`SELECT 1 FROM pg_tables WHERE schemaname = 'layers' AND tablename = $1`, [layerId])).rowCount).toBe(0);

    const hdxLayer = layerOf.get('test2.shp.zip')!;
    const resourceId = [...ckan.received].map((item) => JSON.parse(item.raw)).find((body) => body.shape_info?.includes(hdxLayer))!.id as string;
    // a tile served just before it goes: the gateway still knows the table when it is dropped, and its next tile
    // (not one in its cache) is a 404 at once, not an error
    expect((await fetch(`${gateway.url}/layers/${hdxLayer}/tiles/1/0/0.mvt`)).status).toBe(200);
    expect((await anonymous().post(`/api/delete-one-layer/${resourceId}`)).status).toBe(401);
    const answer = await anonymous().post<Record<string, any>>(`/api/delete-one-layer/${resourceId}?key=${portalKey}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ state: 'success', layer_id: hdxLayer, deleted: [hdxLayer] });
    expect((await admin.get(`/layers/${hdxLayer}`)).status).toBe(404);
    expect((await fetch(`${gateway.url}/layers/${hdxLayer}/tiles/0/0/0.mvt`)).status).toBe(404);
    // the gateway's own role cannot drop a layer (least privilege)
    const asGateway = new pg.Client({ connectionString: context.databaseUrls.gateway });
    await asGateway.connect();
    try {
      await expect(asGateway.query(`DROP TABLE layers."${layerOf.get('test.geojson')}"`)).rejects.toThrow(/must be owner|permission denied/);
    } finally {
      await asGateway.end();
    }
  });
});
