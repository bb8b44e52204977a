import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import gdal from 'gdal-async';
import yauzl from 'yauzl';
import { waitFor } from '../../libs/testing/src/index.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { Client } from '../harness/http.js';
import { waitForJob, type Job } from '../harness/jobs.js';
import { startService, storageDir, type RunningService } from '../harness/services.js';
import { FileServer, geojson, hdxFixture, SAMPLE_POINTS } from '../geo/geo-files.js';
import { WebhookReceiver } from '../sagas/webhook-receiver.js';
import { CkanPortal, type PortalDataset } from './ckan-portal.js';

const PORTAL_KEY = 'portal-api-key-for-exports';
const SECRET = 'a webhook secret';
/** A settle period after the outcome, to see that nothing more arrives. */
const QUIET_MS = 1_000;
/**
 * How long a job may take on a loaded machine. Seen once under a load average of 20 on 2 cores: a package_show that
 * got no answer for a whole try (its timeout, then the retry) — so the waits cover a try's timeout and more.
 */
const SLOW_MS = 120_000;

interface DatasetExportResult {
  file: string;
  bytes: number;
  datasetId: string;
  resources: { id: string; name: string; folder: string; handling: string; files: string[] }[];
  failedResources: { id: string; name: string; error: string }[];
  /** Added by the gateway to a result that names a file. */
  downloadUrl: string;
}

/** A CSV with what copies get wrong: a BOM, quotes, a comma inside a value, non-ASCII letters, CRLF line ends. */
const STATIONS_CSV = Buffer.from('\uFEFFid,name,comment\r\n1,"Gare de Lyon","quai A, voie 3"\r\n2,Zürich HB,"sagte ""Grüezi"""\r\n', 'utf8');

/** Every entry of a ZIP, by name. */
async function unzip(path: string): Promise<Map<string, Buffer>> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true }, (error, file) => (error || !file ? reject(error ?? new Error('no zip')) : resolve(file))),
  );
  const entries = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (error, stream) => {
        if (error || !stream) return reject(error ?? new Error('no stream'));
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          entries.set(entry.fileName, Buffer.concat(chunks));
          zip.readEntry();
        });
      });
    });
    zip.on('end', () => resolve());
    zip.on('error', reject);
    zip.readEntry();
  });
  zip.close();
  return entries;
}

/** Every file under a folder, as paths relative to it. */
async function filesUnder(folder: string): Promise<string[]> {
  if (!existsSync(folder)) return [];
  return (await readdir(folder, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(folder.length + 1));
}

describe('dataset exports: a portal dataset as a ZIP, one subtask per resource (real gateway, export-service, RabbitMQ, PostgreSQL)', () => {
  let context: TestContext;
  let gateway: RunningService;
  let exporter: RunningService;
  let admin: Client;
  let webhooks: WebhookReceiver;
  let scratch: string;
  const portal = new CkanPortal();
  const files = new FileServer();

  const dataset = (name: string, resources: PortalDataset['resources']): PortalDataset => {
    const made = { id: randomUUID(), name, title: `${name} (a test dataset)`, resources };
    portal.datasets.push(made);
    return made;
  };
  const hook = (path: string) => ({ type: 'webhook' as const, url: webhooks.url(path), secret: SECRET });
  const exportsOf = (jobId: string) => join(storageDir(context), 'exports', jobId);
  /** waitForJob on a loaded machine, its timeout saying how often the portal was asked for the dataset. */
  const settled = async <Result = Record<string, unknown>>(jobId: string, state: 'succeeded' | 'failed', what: string, datasetId: string) => {
    try {
      return await waitForJob<Result>(admin, jobId, state, { what, timeoutMs: SLOW_MS });
    } catch (error) {
      throw new Error(`${(error as Error).message}; package_show of ${datasetId} was asked ${portal.packageShows(datasetId).length} times`, { cause: error });
    }
  };

  beforeAll(async () => {
    context = await createTestContext();
    await portal.start();
    await files.start();
    webhooks = await WebhookReceiver.start(SECRET);
    scratch = await mkdtemp(join(tmpdir(), 'geojobs-dataset-e2e-'));
    // loopback is where the test's portal, file server and webhook receiver listen
    gateway = await startService('gateway', context, { GEOJOBS_ALLOWED_HOSTS: '127.0.0.1' });
    exporter = await startService('export-service', context, {
      GEOJOBS_ALLOWED_HOSTS: '127.0.0.1',
      CKAN_API_BASE_URL: portal.url('/api/3/action'),
      CKAN_API_KEY: PORTAL_KEY,
      GEOJOBS_EXPORT_SCRATCH_DIR: join(scratch, 'service'),
    });
    admin = await Client.admin(gateway);
    files.routes.set('/data/roads.geojson', geojson());
    files.routes.set('/data/stations.csv', STATIONS_CSV);
    files.routes.set('/data/boundaries.zip', await hdxFixture('test2.shp.zip'));
  });

  afterAll(async () => {
    await Promise.all([gateway, exporter].map((service) => service?.stop()));
    await webhooks?.close();
    await portal.close();
    await files.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
    await context?.dispose();
  });

  const submit = async (body: Record<string, unknown>): Promise<Job> => {
    const reply = await admin.post<Job>('/exports', body);
    expect({ status: reply.status, body: reply.body }).toMatchObject({ status: 202 });
    return reply.body;
  };

  it('bundles the resources that made it (GIS converted, others copied), names the broken ones, and fires onSuccess once, after the ZIP exists', async () => {
    const path = `/exported/${randomUUID()}`;
    const roads = dataset('roads-of-the-region', [
      { id: 'res-roads', name: 'Roads', url: files.url('/data/roads.geojson'), format: 'GeoJSON' },
      { id: 'res-stations', name: 'Stations', url: files.url('/data/stations.csv'), format: 'CSV' },
      // HDX's sample: a zipped Shapefile of 233 polygons, labelled as portals often do, `ZIP`
      { id: 'res-boundaries', name: 'Boundaries', url: files.url('/data/boundaries.zip'), format: 'ZIP' },
      { id: 'res-broken', name: 'Broken link', url: files.url('/data/gone.zip'), format: 'ZIP' },
      // the cloud metadata address: the host policy refuses it before any connection
      { id: 'res-internal', name: 'Internal mirror', url: 'http://169.254.169.254/latest/roads.geojson', format: 'GeoJSON' },
    ]);
    const job = await submit({
      kind: 'dataset',
      datasetId: roads.name,
      formats: ['csv', 'shp', 'gpkg', 'geojson'],
      followups: { onSuccess: [hook(path)], onFailure: [hook(`${path}/failed`)] },
    });
    const zipPath = join(exportsOf(job.id), 'roads-of-the-region.zip');

    // the moment the webhook is seen, the ZIP must be in storage already
    let zipWhenNotified: boolean | undefined;
    await waitFor(
      () => {
        if (webhooks.requestsTo(path) === 0) return false;
        zipWhenNotified = existsSync(zipPath);
        return true;
      },
      'the onSuccess webhook',
      { timeoutMs: 90_000, intervalMs: 5 },
    );
    expect(zipWhenNotified).toBe(true);

    const done = await settled<DatasetExportResult>(job.id, 'succeeded', 'the dataset export', roads.name);
    const result = done.result!;
    expect(result.file).toBe(`exports/${job.id}/roads-of-the-region.zip`);
    expect(result.bytes).toBe(statSync(zipPath).size);
    expect(result.datasetId).toBe(roads.name);
    expect(result.resources.map((resource) => [resource.id, resource.handling])).toEqual([
      ['res-roads', 'converted'],
      ['res-stations', 'copied'],
      ['res-boundaries', 'converted'],
    ]);
    expect(result.failedResources).toEqual([
      { id: 'res-broken', name: 'Broken link', error: expect.stringMatching(/answered 404 Not Found/) },
      { id: 'res-internal', name: 'Internal mirror', error: expect.stringMatching(/^refusing to download: 169\.254\.169\.254 is a link-local address/) },
    ]);
    // the subtasks are in the saga tree as they ended: two succeeded, two failed, and the merge
    expect(done.children).toMatchObject({ total: 6, byState: { succeeded: 4, failed: 2 } });

    // the link the portal hands its user downloads that ZIP, with no other credential
    const download = await fetch(result.downloadUrl);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(await readFile(zipPath))).toBe(true);

    const entries = await unzip(zipPath);
    const names = [...entries.keys()];
    expect(names[0]).toBe('README.txt');
    expect(names.filter((name) => name.startsWith('Stations/'))).toEqual(['Stations/stations.csv']);
    expect(entries.get('Stations/stations.csv')!.equals(STATIONS_CSV)).toBe(true);
    expect(names.some((name) => name.startsWith('Broken') || name.startsWith('Internal'))).toBe(false);

    // the GeoJSON in each format: GDAL reopens every one with the source's features and names
    const unpacked = join(scratch, job.id);
    for (const [name, body] of entries) {
      await mkdir(dirname(join(unpacked, name)), { recursive: true });
      await writeFile(join(unpacked, name), body);
    }
    const converted = result.resources[0].files.filter((file) => /\.(csv|shp|gpkg|geojson)$/.test(file));
    expect(converted.map((file) => file.split('.').pop()).sort()).toEqual(['csv', 'geojson', 'gpkg', 'shp']);
    for (const file of converted) {
      expect(names).toContain(file);
      const opened = gdal.open(join(unpacked, file));
      const layer = opened.layers.get(0);
      expect({ file, features: layer.features.count() }).toEqual({ file, features: SAMPLE_POINTS.length });
      const cities = layer.features.map((feature) => feature.fields.get('name') as string).sort();
      expect({ file, cities }).toEqual({ file, cities: SAMPLE_POINTS.map((point) => point.name).sort() });
      opened.close();
    }
    // the zipped Shapefile in each format, its 233 features in every one
    const boundaries = result.resources[2].files.filter((file) => /\.(csv|shp|gpkg|geojson)$/.test(file));
    expect(boundaries.map((file) => file.split('.').pop()).sort()).toEqual(['csv', 'geojson', 'gpkg', 'shp']);
    for (const file of boundaries) {
      const opened = gdal.open(join(unpacked, file));
      expect({ file, features: opened.layers.get(0).features.count() }).toEqual({ file, features: 233 });
      opened.close();
    }
    const csv = entries.get(converted.find((file) => file.endsWith('.csv'))!)!.toString('utf8');
    expect(csv.split('\n')[1]).toMatch(/^"?POINT \(2\.35 48\.85\)"?,/);

    const readme = entries.get('README.txt')!.toString('utf8');
    expect(readme).toContain('Dataset: roads-of-the-region (a test dataset) (roads-of-the-region)');
    expect(readme).toContain('Resources in this archive: 3 of 5');
    for (const file of result.resources.flatMap((resource) => resource.files)) expect(readme).toContain(file.split('/').pop());
    expect(readme).toMatch(/Broken link \(resource res-broken\)\n {2}url: .*\/data\/gone\.zip\n {2}why: .*answered 404 Not Found/);
    expect(readme).toMatch(/Internal mirror \(resource res-internal\)\n.*\n {2}why: refusing to download: 169\.254\.169\.254 is a link-local address/);

    // the working files went; the ZIP alone stays
    expect(await filesUnder(exportsOf(job.id))).toEqual(['roads-of-the-region.zip']);
    expect(await filesUnder(join(scratch, 'service'))).toEqual([]);

    // the portal's key went to the portal, and to no file server
    expect(portal.packageShows(roads.name).map((request) => request.headers.authorization)).toEqual([PORTAL_KEY]);
    expect(files.requests.filter((request) => request.path.startsWith('/data/')).every((request) => request.headers.authorization === undefined)).toBe(true);

    await sleep(QUIET_MS);
    expect(webhooks.to(path)).toHaveLength(1);
    expect(webhooks.to(`${path}/failed`)).toHaveLength(0);
    expect(webhooks.to(path)[0]).toMatchObject({ signed: true, body: { id: job.id, state: 'succeeded', result: { file: result.file } } });
  });

  it('fails a dataset the portal does not have, saying so, and leaves nothing in storage', async () => {
    const job = await submit({ kind: 'dataset', datasetId: 'no-such-dataset' });
    const failed = await settled(job.id, 'failed', 'the export of an unknown dataset to fail', 'no-such-dataset');
    expect(failed.error).toEqual({
      type: 'export',
      class: 'DatasetNotFound',
      message: 'the portal has no dataset "no-such-dataset" (package_show answered 404 Not Found)',
    });
    expect(portal.packageShows('no-such-dataset')).toHaveLength(1); // a 404 is the portal's final word: not retried
    expect(existsSync(exportsOf(job.id))).toBe(false);
  });

  it('fails with every error when no resource made it, and leaves nothing in storage', async () => {
    const path = `/nothing/${randomUUID()}`;
    const gone = dataset('all-gone', [
      { id: 'gone-1', name: 'First', url: files.url('/data/first.csv'), format: 'CSV' },
      { id: 'gone-2', name: 'Second', url: files.url('/data/second.geojson'), format: 'GeoJSON' },
    ]);
    const job = await submit({ kind: 'dataset', datasetId: gone.id, followups: { onSuccess: [hook(`${path}/ok`)], onFailure: [hook(path)] } });
    const failed = await settled(job.id, 'failed', 'the export of a dataset of broken links to fail', gone.id);
    // the merge's error, as the saga coordinator words a merge that decides the job's outcome and failed
    expect(failed.error).toMatchObject({ type: 'saga', class: 'MergeFailed' });
    expect(failed.error!.message).toMatch(
      /^the merge step failed: could not export any of the dataset's 2 resources: First: .*answered 404 Not Found; Second: .*answered 404 Not Found$/,
    );
    expect(await filesUnder(exportsOf(job.id))).toEqual([]);
    await waitFor(() => webhooks.to(path).length > 0, 'the onFailure webhook');
    await sleep(QUIET_MS);
    expect(webhooks.to(path)).toHaveLength(1);
    expect(webhooks.to(`${path}/ok`)).toHaveLength(0);
  });

  it('tries a portal that is down again, then fails with its answer, leaving nothing in storage', async () => {
    const roads = dataset('while-down', [{ id: 'down-1', name: 'Roads', url: files.url('/data/roads.geojson'), format: 'GeoJSON' }]);
    portal.down = true;
    try {
      const job = await submit({ kind: 'dataset', datasetId: roads.name });
      const failed = await settled(job.id, 'failed', 'the export to give the portal up', roads.name);
      expect(failed.error).toEqual({
        type: 'export',
        class: 'PortalUnavailable',
        message: 'the portal answered 503 Service Unavailable to package_show (5 tries): <html><body>Portal under maintenance until 20:00 UTC</body></html>',
      });
      expect(portal.packageShows(roads.name)).toHaveLength(5);
      expect(existsSync(exportsOf(job.id))).toBe(false);
    } finally {
      portal.down = false;
    }
  });

  it('stops on cancel: the running download ends, the merge only cleans up, nothing is left in storage or scratch', async () => {
    const path = `/cancelled/${randomUUID()}`;
    let holding: ServerResponse | undefined;
    // half a file, then nothing: the download waits until the cancel stops it
    files.routes.set('/data/slow.geojson', (response) => {
      holding = response;
      response.writeHead(200, { 'content-type': 'application/geo+json', 'content-length': '100000' }).write('{"type":"FeatureCollection","features":[');
    });
    const slow = dataset('slow-dataset', [
      { id: 'quick-csv', name: 'Stations', url: files.url('/data/stations.csv'), format: 'CSV' },
      { id: 'slow-geojson', name: 'Roads', url: files.url('/data/slow.geojson'), format: 'GeoJSON' },
    ]);
    const job = await submit({ kind: 'dataset', datasetId: slow.name, followups: { onSuccess: [hook(path)], onFailure: [hook(path)] } });
    const children = async () => (await admin.get<Job[]>(`/jobs?parentId=${job.id}&limit=10`)).body;
    const quickDone = async () =>
      (await children()).some((child) => (child.input.resource as { id?: string } | undefined)?.id === 'quick-csv' && child.state === 'succeeded');
    let seen = '';
    await waitFor(
      async () => {
        seen = JSON.stringify((await children()).map((child) => [child.type, child.state, child.progress.message]));
        return holding !== undefined && (await quickDone());
      },
      () =>
        `one resource done, the other downloading (slow download ${holding ? '' : 'not '}started; package_show asked ${portal.packageShows(slow.name).length} times; ` +
        `subtasks ${seen}; export-service said:\n${exporter.output().slice(-3_000)})`,
      { timeoutMs: SLOW_MS },
    );
    expect(existsSync(join(exportsOf(job.id), 'resources', 'quick-csv', 'manifest.json'))).toBe(true);

    expect((await admin.post(`/jobs/${job.id}/cancel`, {})).status).toBe(200);
    const merge = await waitFor(async () => (await children()).find((child) => 'saga' in child.input && child.state === 'succeeded'), 'the merge to clean up');
    expect(merge.result).toMatchObject({ cleanedUp: true, reason: 'the job was cancelled' });
    expect((await admin.get<Job>(`/jobs/${job.id}`)).body.state).toBe('cancelled');
    expect(
      (await children())
        .filter((child) => !('saga' in child.input))
        .map((child) => child.state)
        .sort(),
    ).toEqual(['cancelled', 'succeeded']);
    await waitFor(async () => (await filesUnder(exportsOf(job.id))).length === 0, 'the working files to go');
    await waitFor(async () => (await filesUnder(join(scratch, 'service'))).length === 0, 'the scratch folder to be emptied');
    holding?.destroy();
    await sleep(QUIET_MS);
    expect(webhooks.requestsTo(path)).toBe(0); // a cancelled job has no followups
  });

  it('keeps the service up through all of it', async () => {
    expect(exporter.process.exitCode).toBeNull();
    expect((await fetch(`${exporter.url}/health`)).ok).toBe(true);
  });
});
