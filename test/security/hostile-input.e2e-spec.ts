/**
 * The hostile-input corpus (hostile-corpus.ts) through every entry point that takes a file or a URL, on the real
 * gateway, geo-service and export-service: each job must end failed with an error that says what was wrong with the
 * input (no stack trace), leave no file in the services' scratch folders or in storage and no table in PostGIS, reach
 * no address it was not allowed to, and leave every service healthy and able to run a normal job afterwards.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { deadLetterQueueOf, QUEUES } from '#shared';
import { waitFor } from '../../libs/testing/src/index.js';
import { CkanPortal } from '../export/ckan-portal.js';
import { FileServer, geojson, SAMPLE_POINTS, writeLayers } from '../geo/geo-files.js';
import { CkanServer } from '../geogw/ckan-server.js';
import { createTestContext, management, type TestContext } from '../harness/context.js';
import { Client } from '../harness/http.js';
import { waitForJob, type Job } from '../harness/jobs.js';
import { startService, storageDir, type RunningService } from '../harness/services.js';
import { HOSTILE_CORPUS, HOSTILE_MAX_DOWNLOAD, Sentinel, serveCorpus, type HostileItem } from './hostile-corpus.js';

const CKAN_KEY = 'hostile-portal-key';
const UPDATE_PATH = '/api/3/action/hdx_resource_update_metadata';
/** Short enough that the stalling and never-ending servers fail in seconds. */
const READ_TIMEOUT_MS = 1_000;
const DOWNLOAD_TIMEOUT_MS = 3_000;
/** GEOJOBS_GEO_MAX_UNPACKED_BYTES; export-service allows 4 × its download cap, the same here. */
const MAX_UNPACKED = 4 * HOSTILE_MAX_DOWNLOAD;

type EntryName = 'POST /geopreview' | 'HDX add-layer' | 'export.dataset' | 'POST /exports convert' | 'SMS-Rio POST /export/';
const ENTRY_POINTS: EntryName[] = ['POST /geopreview', 'HDX add-layer', 'export.dataset', 'POST /exports convert', 'SMS-Rio POST /export/'];
/** Which pipeline an entry point feeds: the two geopreview doors share one, and so do the two convert doors. */
const PIPELINE: Record<EntryName, 'geo' | 'dataset' | 'convert'> = {
  'POST /geopreview': 'geo',
  'HDX add-layer': 'geo',
  'export.dataset': 'dataset',
  'POST /exports convert': 'convert',
  'SMS-Rio POST /export/': 'convert',
};

const NOT_A_DATABASE = (name: string) => new RegExp(`^"${name.replace('.', '\\.')}" is not a database geojobs can convert \\(GeoPackage, SQLite`);
const ENTITIES = (name: string) =>
  new RegExp(`^${name.replace('.', '\\.')} declares XML entities, which are refused \\(they can read local files or reach the network\\)$`);
const BOMB = new RegExp(`the archive expands to \\d+ bytes, over the limit of ${MAX_UNPACKED}$`);

/**
 * What each pipeline must say about each item: the error's message, or, for the dataset export, `copied` where the
 * file is not a GIS format and is bundled as it is, never opened (a CSV of many columns is only bytes to copy), and
 * `converted` where an export, a copy in other formats rather than a map preview, writes what the publisher wrote
 * (coordinates out of range are the publisher's data; GDAL reads "NaN" and "Infinity" as no geometry).
 */
const EXPECTED: Record<string, { geo: RegExp; dataset: RegExp | 'copied' | 'converted'; convert: RegExp }> = {
  '/slip.zip': {
    geo: /^refusing the archive: "\.\.\/\.\.\/evil\.shp" escapes the folder$/,
    dataset: /"\.\.\/\.\.\/evil\.shp" escapes the folder$/,
    convert: /^refusing the archive: "\.\.\/\.\.\/evil\.shp" escapes the folder$/,
  },
  '/absolute.zip': {
    geo: /"\/tmp\/geojobs-evil\.shp" is an absolute path$/,
    dataset: /"\/tmp\/geojobs-evil\.shp" is an absolute path$/,
    convert: /"\/tmp\/geojobs-evil\.shp" is an absolute path$/,
  },
  '/symlink.zip': { geo: /"passwd\.shp" is a symbolic link$/, dataset: /"passwd\.shp" is a symbolic link$/, convert: /"passwd\.shp" is a symbolic link$/ },
  '/bomb.zip': { geo: BOMB, dataset: BOMB, convert: BOMB },
  '/ratio.zip': {
    geo: /^the archive expands \d+ times its size, over the limit of 100$/,
    dataset: /the archive expands \d+ times its size, over the limit of 200$/,
    convert: /^the archive expands \d+ times its size, over the limit of 200$/,
  },
  '/bomb.shp.zip': { geo: BOMB, dataset: BOMB, convert: BOMB },
  '/entries.zip': {
    geo: /^the archive holds more than 1000 entries$/,
    dataset: /the archive holds more than 20000 entries$/,
    convert: /^the archive holds more than 20000 entries$/,
  },
  '/bomb.kmz': { geo: BOMB, dataset: BOMB, convert: BOMB },
  '/laughs.kml': { geo: ENTITIES('laughs.kml'), dataset: ENTITIES('laughs.kml'), convert: NOT_A_DATABASE('laughs.kml') },
  '/xxe-file.kml': { geo: ENTITIES('xxe-file.kml'), dataset: ENTITIES('xxe-file.kml'), convert: NOT_A_DATABASE('xxe-file.kml') },
  '/xxe-http.kml': { geo: ENTITIES('xxe-http.kml'), dataset: ENTITIES('xxe-http.kml'), convert: NOT_A_DATABASE('xxe-http.kml') },
  '/xxe.kmz': {
    geo: ENTITIES('doc.kml'),
    dataset: /^xxe\.kmz: doc\.kml declares XML entities, which are refused/,
    convert: /^the zip holds no database geojobs can convert/,
  },
  '/xxe-padded.kml': { geo: ENTITIES('xxe-padded.kml'), dataset: ENTITIES('xxe-padded.kml'), convert: NOT_A_DATABASE('xxe-padded.kml') },
  '/empty.geojson': {
    geo: /^empty\.geojson is empty \(0 bytes\)$/,
    dataset: /^empty\.geojson is empty \(0 bytes\)$/,
    convert: /^"empty\.geojson" is empty \(0 bytes\)$/,
  },
  '/truncated.geojson': {
    geo: /^truncated\.geojson could not be read as geojson; it may be corrupt or truncated/,
    dataset: /^truncated\.geojson could not be converted as geojson: /,
    convert: NOT_A_DATABASE('truncated.geojson'),
  },
  '/truncated.gpkg': {
    geo: /^truncated\.gpkg could not be read as geopackage; it may be corrupt or truncated/,
    dataset: /^truncated\.gpkg could not be converted as geopackage: /,
    convert: /^the SQLite database is truncated: 4096 bytes of the 262144 its header declares$/,
  },
  '/truncated.shp.zip': {
    geo: /^the archive is corrupt or truncated: /,
    dataset: /^truncated\.shp\.zip: the archive is corrupt or truncated: /,
    convert: /^the archive is corrupt or truncated: /,
  },
  '/image.geojson': {
    geo: /^image\.geojson is not a geojson file: its content looks like binary data$/,
    dataset: /^image\.geojson could not be converted as geojson: /,
    convert: NOT_A_DATABASE('image.geojson'),
  },
  '/archive.kml': {
    geo: /^archive\.kml is not a kml file: its content looks like a zip archive$/,
    dataset: /^archive\.kml could not be converted as kmz: /,
    convert: /^the zip holds no database geojobs can convert/,
  },
  '/nested.geojson': {
    geo: /^nested\.geojson could not be read as geojson; it may be corrupt or truncated/,
    dataset: /^nested\.geojson could not be converted as geojson: /,
    convert: NOT_A_DATABASE('nested.geojson'),
  },
  '/absurd.geojson': {
    geo: /^no feature of the layer has a geometry within longitude\/latitude range; \d+ features were outside longitude\/latitude range and were dropped: there is nothing to preview$/,
    dataset: 'converted',
    convert: NOT_A_DATABASE('absurd.geojson'),
  },
  '/wide.csv': {
    geo: /^layer "wide" has more fields than a PostGIS table holds \([\d,]+ read, at most 1,598\)$/,
    dataset: 'copied',
    convert: NOT_A_DATABASE('wide.csv'),
  },
  '/firehose.geojson': {
    geo: new RegExp(`^the file is over the limit of ${HOSTILE_MAX_DOWNLOAD} bytes$`),
    dataset: new RegExp(`the file is over the limit of ${HOSTILE_MAX_DOWNLOAD} bytes$`),
    convert: new RegExp(`^http://127\\.0\\.0\\.1:\\d+/firehose\\.geojson(\\?sms)? is over the limit of ${HOSTILE_MAX_DOWNLOAD} bytes$`),
  },
  '/trickle.geojson': {
    geo: new RegExp(`^the download took longer than ${DOWNLOAD_TIMEOUT_MS} ms$`),
    dataset: new RegExp(`the download took longer than ${DOWNLOAD_TIMEOUT_MS / 1_000} s$`),
    convert: new RegExp(`^the download of http://127\\.0\\.0\\.1:\\d+/trickle\\.geojson(\\?sms)? took longer than ${DOWNLOAD_TIMEOUT_MS} ms$`),
  },
  '/stall.geojson': {
    geo: new RegExp(`^no data from 127\\.0\\.0\\.1:\\d+ for ${READ_TIMEOUT_MS} ms$`),
    dataset: new RegExp(`no data from 127\\.0\\.0\\.1:\\d+ for ${READ_TIMEOUT_MS / 1_000} s$`),
    convert: new RegExp(`^no data from http://127\\.0\\.0\\.1:\\d+/stall\\.geojson(\\?sms)? for ${READ_TIMEOUT_MS} ms$`),
  },
  '/to-loopback.geojson': {
    geo: /^refusing to download: 127\.0\.0\.2 is a loopback address: not a public address and not in GEOJOBS_ALLOWED_HOSTS$/,
    dataset: /^refusing to download: 127\.0\.0\.2 is a loopback address: not a public address and not in GEOJOBS_ALLOWED_HOSTS$/,
    convert: /127\.0\.0\.2 is a loopback address: not a public address and not in GEOJOBS_ALLOWED_HOSTS$/,
  },
  '/to-metadata.geojson': {
    geo: /^refusing to download: 169\.254\.169\.254 is a link-local address: not a public address and not in GEOJOBS_ALLOWED_HOSTS$/,
    dataset: /^refusing to download: 169\.254\.169\.254 is a link-local address: not a public address and not in GEOJOBS_ALLOWED_HOSTS$/,
    convert: /169\.254\.169\.254 is a link-local address: not a public address and not in GEOJOBS_ALLOWED_HOSTS$/,
  },
};

const slug = (item: HostileItem): string => item.path.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '');

/** Every file under a folder, as paths relative to it. */
async function filesUnder(folder: string): Promise<string[]> {
  if (!existsSync(folder)) return [];
  return (await readdir(folder, { recursive: true, withFileTypes: true }))
    .filter((entry) => !entry.isDirectory())
    .map((entry) => join(entry.parentPath, entry.name).slice(folder.length + 1));
}

/** What a reader of an error would not want to see: a stack trace, an object dumped, a bare exception name. */
function expectReadable(message: string): void {
  expect(message.length).toBeGreaterThan(10);
  expect(message.length).toBeLessThan(400);
  expect(message).not.toMatch(/\n|\bat .*\(.*:\d+:\d+\)|\[object Object\]|\bundefined\b|^\w*Error$|Body Timeout Error|TIMEOUT_ERR|ECONNRESET/);
}

describe('hostile input through every entry point: each job fails saying why, leaves nothing, reaches nothing, and the services stay healthy', () => {
  let context: TestContext;
  let gateway: RunningService;
  let geo: RunningService;
  let exporter: RunningService;
  let admin: Client;
  let database: pg.Client;
  let geoScratch: string;
  let exportScratch: string;
  const files = new FileServer();
  const sentinel = new Sentinel();
  const callbacks = new CkanServer();
  const portal = new CkanPortal();
  /** The job of each item, by entry point. */
  const jobs = new Map<EntryName, Map<string, Job>>();

  beforeAll(async () => {
    context = await createTestContext();
    await Promise.all([files.start(), sentinel.start(), callbacks.start(), portal.start()]);
    serveCorpus(files, sentinel);
    const folder = await mkdtemp(join(tmpdir(), 'geojobs-hostile-'));
    geoScratch = join(folder, 'geo');
    exportScratch = join(folder, 'export');
    // loopback 127.0.0.1 is where the test's servers listen; the sentinel's 127.0.0.2 is not allowed
    const allowed = { GEOJOBS_ALLOWED_HOSTS: '127.0.0.1' };
    // one after the other: three Node processes booting at once on a loaded machine can miss the harness's 30 s
    geo = await startService('geo-service', context, {
      ...allowed,
      CKAN_API_BASE_URL: callbacks.url('/api/3/action'),
      CKAN_API_KEY: CKAN_KEY,
      GEOJOBS_GEO_CALLBACK_RETRY_BASE_MS: '50',
      GEOJOBS_GEO_SCRATCH_DIR: geoScratch,
      GEOJOBS_GEO_MAX_DOWNLOAD_BYTES: String(HOSTILE_MAX_DOWNLOAD),
      GEOJOBS_GEO_READ_TIMEOUT_MS: String(READ_TIMEOUT_MS),
      GEOJOBS_GEO_DOWNLOAD_TIMEOUT_MS: String(DOWNLOAD_TIMEOUT_MS),
      GEOJOBS_GEO_MAX_UNPACKED_BYTES: String(MAX_UNPACKED),
      GEOJOBS_GEO_MAX_UNPACK_RATIO: '100',
      GEOJOBS_GEO_MAX_ARCHIVE_ENTRIES: '1000',
    });
    exporter = await startService('export-service', context, {
      ...allowed,
      CKAN_API_BASE_URL: portal.url('/api/3/action'),
      CKAN_API_KEY: CKAN_KEY,
      GEOJOBS_PREFETCH: '4',
      GEOJOBS_EXPORT_SCRATCH_DIR: exportScratch,
      GEOJOBS_EXPORT_MAX_DOWNLOAD_BYTES: String(HOSTILE_MAX_DOWNLOAD),
      GEOJOBS_EXPORT_READ_TIMEOUT_MS: String(READ_TIMEOUT_MS),
      GEOJOBS_EXPORT_DOWNLOAD_TIMEOUT_MS: String(DOWNLOAD_TIMEOUT_MS),
    });
    gateway = await startService('gateway', context, allowed);
    admin = await Client.admin(gateway);
    database = new pg.Client({ connectionString: context.databaseUrls.admin });
    await database.connect();
    for (const item of HOSTILE_CORPUS) {
      portal.datasets.push({
        id: `hostile-${slug(item)}`,
        name: `hostile-${slug(item)}`,
        title: item.what,
        resources: [{ id: `res-${slug(item)}`, name: item.what, url: files.url(item.path), format: item.label }],
      });
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all([gateway, geo, exporter].map((service) => service?.stop()));
    await database?.end();
    await Promise.all([files.close(), sentinel.close(), callbacks.close(), portal.close()]);
    await context?.dispose();
  });

  /** The id of the job a submission made; the submission itself must be accepted (the input is only bad once read). */
  const accepted = async <T>(reply: Promise<{ status: number; body: T }>, id: (body: T) => string | undefined): Promise<string> => {
    const { status, body } = await reply;
    if (status !== 200 && status !== 202) throw new Error(`the submission was refused: ${status} ${JSON.stringify(body)}`);
    const jobId = id(body);
    if (!jobId) throw new Error(`no job id in ${JSON.stringify(body)}`);
    return jobId;
  };

  const submit: Record<EntryName, (item: HostileItem) => Promise<string>> = {
    'POST /geopreview': (item) =>
      accepted(admin.post<Job>('/geopreview', { datasetId: 'hostile', resourceId: `gp-${slug(item)}`, url: files.url(item.path) }), (body) => body.id),
    'HDX add-layer': (item) =>
      accepted(
        admin.get<{ state: string; job_id?: string }>(
          `/api/add-layer/dataset/hostile/resource/hdx-${slug(item)}?resource_download_url=${encodeURIComponent(files.url(item.path))}&url_type=upload`,
        ),
        (body) => (body.state === 'processing' ? body.job_id : undefined),
      ),
    'export.dataset': (item) =>
      accepted(admin.post<Job>('/exports', { kind: 'dataset', datasetId: `hostile-${slug(item)}`, formats: ['csv', 'gpkg'] }), (body) => body.id),
    'POST /exports convert': (item) => accepted(admin.post<Job>('/exports', { kind: 'convert', uri: files.url(item.path) }), (body) => body.id),
    // a query string of its own, so that it is not the same input as the convert above (which would be deduplicated)
    'SMS-Rio POST /export/': (item) => accepted(admin.post<{ id: string }>('/export/', { uri: `${files.url(item.path)}?sms` }), (body) => body.id),
  };

  describe.each(ENTRY_POINTS)('%s', (entry) => {
    beforeAll(async () => {
      // the whole corpus at once, as a hostile portal would send it
      const ids = await Promise.all(HOSTILE_CORPUS.map((item) => submit[entry](item)));
      const ended = await Promise.all(ids.map((id) => waitForJob(admin, id, undefined, { timeoutMs: 90_000, what: `job ${id} (${entry}) to end` })));
      jobs.set(entry, new Map(HOSTILE_CORPUS.map((item, index) => [item.path, ended[index]])));
    }, 120_000);

    it.each(HOSTILE_CORPUS.map((item) => [item.what, item] as const))('%s', async (_what, item) => {
      const job = jobs.get(entry)!.get(item.path)!;
      const expected = EXPECTED[item.path][PIPELINE[entry]];
      if (expected === 'copied' || expected === 'converted') {
        expect({ state: job.state, error: job.error }).toEqual({ state: 'succeeded', error: null });
        expect(job.result).toMatchObject({ resources: [{ handling: expected }], failedResources: [] });
        return;
      }
      expect({ state: job.state, class: job.error?.class }).toEqual({ state: 'failed', class: expect.any(String) });
      const message = job.error!.message;
      expectReadable(message);
      if (PIPELINE[entry] === 'dataset') {
        // the saga names the resource, then says what was wrong with it
        const prefix = `the merge step failed: could not export the dataset's resource: ${item.what}: `;
        expect(message.slice(0, prefix.length)).toBe(prefix);
        expect(message.slice(prefix.length)).toMatch(expected);
      } else {
        expect(message).toMatch(expected);
      }
      if (entry === 'SMS-Rio POST /export/') {
        const check = await admin.get<{ status: string; result: { success: boolean; error: string } }>(`/check/${job.id}`);
        expect(check.body).toMatchObject({ status: 'FAILURE', result: { success: false, error: message } });
      }
      if (entry === 'HDX add-layer') {
        // the portal hears of it too, in HDX's shape, with the same words
        const [received] = await waitFor(
          () => {
            const found = callbacks.delivered(UPDATE_PATH, (body) => body.id === `hdx-${slug(item)}`);
            return found.length > 0 && found;
          },
          `the CKAN callback of ${item.path}`,
          { timeoutMs: 10_000 },
        );
        const shapeInfo = JSON.parse((JSON.parse(received.raw) as { shape_info: string }).shape_info) as Record<string, unknown>;
        expect(shapeInfo).toMatchObject({ state: 'failure', message, error_class: job.error!.class });
      }
    });
  });

  describe('afterwards', () => {
    const hostileJobs = () => [...jobs.values()].flatMap((byItem) => [...byItem.values()]);

    it('reached no address it was not allowed to: nothing came to the loopback sentinel, no file was read into a job', async () => {
      expect(sentinel.requests).toEqual([]);
      const passwd = (await readFile('/etc/passwd', 'utf8')).split('\n')[0];
      const said = JSON.stringify([hostileJobs(), callbacks.received.map((request) => request.raw)]);
      expect(said).not.toContain(passwd);
    });

    it('left no file in the scratch folders, none in storage but the bundles of the dataset exports that succeeded, and no layer table', async () => {
      expect(await filesUnder(geoScratch)).toEqual([]);
      expect(await filesUnder(exportScratch)).toEqual([]);
      const succeeded = hostileJobs().filter((job) => job.state === 'succeeded');
      const bundles = succeeded.map((job) => (job.result as { file: string }).file);
      expect((await filesUnder(storageDir(context))).sort()).toEqual(bundles.sort());
      const tables = await database.query<{ schemaname: string; tablename: string }>(
        `SELECT schemaname, tablename FROM pg_tables
         WHERE schemaname = 'layers_staging' OR (schemaname = 'layers' AND tablename LIKE 'pre\\_%') ORDER BY 1, 2`,
      );
      expect(tables.rows).toEqual([]);
    });

    it('failed every job as the input’s fault, not as a crash: nothing was dead-lettered, no service logged a fatal error', async () => {
      for (const queue of Object.values(QUEUES)) {
        const reply = await management(context.managementUrl, 'GET', `/api/queues/${encodeURIComponent(context.vhost)}/${deadLetterQueueOf(queue)}`);
        expect({ queue, messages: ((await reply.json()) as { messages?: number }).messages ?? 0 }).toEqual({ queue, messages: 0 });
      }
      for (const service of [gateway, geo, exporter]) expect(service.output()).not.toMatch(/"level":60|Uncaught|UnhandledPromiseRejection|Segmentation fault/);
    });

    it('every service is still healthy and runs a normal job through each entry point', async () => {
      for (const service of [gateway, geo, exporter]) {
        const health = await fetch(`${service.url}/health`);
        expect({ service: service.name, status: health.status }).toEqual({ service: service.name, status: 200 });
        expect(service.process.exitCode).toBeNull();
      }
      files.routes.set('/good/roads.geojson', geojson());
      const gpkg = join(await mkdtemp(join(tmpdir(), 'geojobs-hostile-good-')), 'places.gpkg');
      writeLayers('GPKG', gpkg, [{ name: 'places', points: SAMPLE_POINTS }]);
      files.routes.set('/good/places.gpkg', await readFile(gpkg));
      portal.datasets.push({
        id: 'good-dataset',
        name: 'good-dataset',
        title: 'A dataset that is fine',
        resources: [{ id: 'res-good', name: 'Roads', url: files.url('/good/roads.geojson'), format: 'GeoJSON' }],
      });
      const good: HostileItem = { what: 'a good file', path: '/good/roads.geojson', label: 'GeoJSON' };
      const ids = await Promise.all([
        submit['POST /geopreview'](good),
        submit['HDX add-layer'](good),
        accepted(admin.post<Job>('/exports', { kind: 'dataset', datasetId: 'good-dataset', formats: ['csv'] }), (body) => body.id),
        accepted(admin.post<Job>('/exports', { kind: 'convert', uri: files.url('/good/places.gpkg') }), (body) => body.id),
        accepted(admin.post<{ id: string }>('/export/', { uri: `${files.url('/good/places.gpkg')}?sms` }), (body) => body.id),
      ]);
      const ended = await Promise.all(ids.map((id) => waitForJob(admin, id, 'succeeded', { timeoutMs: 60_000 })));
      expect(ended[0].result).toMatchObject({ featureCount: 3 });
      expect(ended[1].result).toMatchObject({ featureCount: 3 });
      expect(ended[2].result).toMatchObject({ resources: [{ id: 'res-good', handling: 'converted', features: 3 }], failedResources: [] });
      expect(ended[3].result).toMatchObject({ tables: [{ name: 'places', rows: 3 }] });
      expect(ended[4].result).toMatchObject({ tables: [{ name: 'places', rows: 3 }] });
    });

    it('a hostile upload for a resource already previewed fails before the swap: the layer stays as it was', async () => {
      const preview = (path: string) =>
        accepted(admin.post<Job>('/geopreview', { datasetId: 'hostile', resourceId: 'previewed', url: files.url(path) }), (body) => body.id);
      const good = await waitForJob(admin, await preview('/good/roads.geojson'), 'succeeded');
      const layerId = (good.result as { layerId: string }).layerId;
      const bad = await waitForJob(admin, await preview('/absurd.geojson'), 'failed');
      expect(bad.error).toMatchObject({ type: 'import', message: expect.stringMatching(EXPECTED['/absurd.geojson'].geo) });
      expect((await admin.get(`/layers/${layerId}`)).body).toMatchObject({ layerId, featureCount: 3 });
    });
  });
});
