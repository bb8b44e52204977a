import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { LocalStorage, S3Storage, type Storage } from '#shared';
import { createTestContext, type TestContext } from '../harness/context.js';
import { Client } from '../harness/http.js';
import { submitJob } from '../harness/jobs.js';
import { S3TestServer } from '../harness/s3-server.js';
import { startService, storageDir, type RunningService } from '../harness/services.js';
import { MiB, pattern, sha256 } from '../storage/storage-behaviour.js';

interface Listing {
  prefix: string;
  backend: string;
  files: { key: string; size: number; humanSize: string; modifiedAt: string }[];
  count: number;
  totalSize: number;
  totalHumanSize: string;
  truncated: boolean;
}

interface Health {
  status: string;
  info?: Record<string, { status: string; backend?: string }>;
  error?: Record<string, { status: string; backend?: string; message?: string }>;
}

const put = (storage: Storage, key: string, bytes: Buffer) => storage.write(key, Readable.from([bytes]));

describe('storage through the gateway: GET /files, /health, GET /jobs/:id/result (real gateway, RabbitMQ, PostgreSQL)', () => {
  let context: TestContext;
  const services: RunningService[] = [];

  beforeAll(async () => {
    context = await createTestContext();
  });

  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await context?.dispose();
    if (context) await rm(storageDir(context), { recursive: true, force: true });
  });

  let submitted = 0;
  /** A noop job nobody runs (no geo-service here), then marked succeeded with a result file, as a service would. */
  async function jobWithResult(admin: Client, file: string): Promise<string> {
    const { id } = await submitJob(admin, { type: 'noop', input: { service: 'geo', sleepMs: ++submitted } });
    const client = new pg.Client({ connectionString: context.databaseUrls.admin });
    await client.connect();
    try {
      await client.query(`UPDATE jobs.jobs SET state = 'succeeded', result = $2, finished_at = now() WHERE id = $1`, [id, { file }]);
    } finally {
      await client.end();
    }
    return id;
  }

  async function download(admin: Client, jobId: string): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
    const response = await fetch(`${admin.baseUrl}/jobs/${jobId}/result`, { headers: { authorization: admin.authorization! } });
    return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
  }

  describe('with the local storage folder', () => {
    let gateway: RunningService;
    let admin: Client;
    let storage: LocalStorage;

    beforeAll(async () => {
      gateway = await startService('gateway', context);
      services.push(gateway);
      admin = await Client.admin(gateway);
      // the very folder the gateway was given (GEOJOBS_STORAGE_DIR), written as a service on this machine would
      storage = new LocalStorage(storageDir(context));
    });

    it('lists the objects in storage with their sizes, by prefix and up to a limit', async () => {
      await put(storage, 'exports/job-a/bundle.zip', pattern(1_536));
      await put(storage, 'exports/job-b/README.txt', Buffer.from('hello world'));
      await put(storage, 'packages/AFG/roads/1.0.0/roads.gpkg', pattern(3 * MiB));

      const all = await admin.get<Listing>('/files');
      expect(all.status).toBe(200);
      expect(all.body).toMatchObject({ prefix: '', backend: 'local', count: 3, truncated: false, totalSize: 1_536 + 11 + 3 * MiB, totalHumanSize: '3.0 MiB' });
      expect(all.body.files.map(({ key, size, humanSize }) => ({ key, size, humanSize }))).toEqual([
        { key: 'exports/job-a/bundle.zip', size: 1_536, humanSize: '1.5 KiB' },
        { key: 'exports/job-b/README.txt', size: 11, humanSize: '11 B' },
        { key: 'packages/AFG/roads/1.0.0/roads.gpkg', size: 3 * MiB, humanSize: '3.0 MiB' },
      ]);
      for (const file of all.body.files) expect(Math.abs(Date.parse(file.modifiedAt) - Date.now())).toBeLessThan(60_000);

      const exports = await admin.get<Listing>('/files?prefix=exports/');
      expect(exports.body.files.map((file) => file.key)).toEqual(['exports/job-a/bundle.zip', 'exports/job-b/README.txt']);
      expect((await admin.get<Listing>('/files?prefix=nothing/')).body).toMatchObject({ files: [], count: 0, totalSize: 0 });

      const first = await admin.get<Listing>('/files?limit=1');
      expect(first.body).toMatchObject({ count: 1, truncated: true, files: [{ key: 'exports/job-a/bundle.zip' }] });

      expect((await admin.get('/files?prefix=..%5Cx')).status).toBe(400);
      expect((await admin.get('/files?limit=0')).status).toBe(400);
    });

    it('is for admins only: 403 for a reader and for a portal key, 401 without a credential', async () => {
      await admin.post('/users', { username: 'files-reader', password: 'long enough', role: 'reader' });
      const token = await admin.as(undefined).post<{ access_token: string }>('/token', { username: 'files-reader', password: 'long enough' });
      expect((await admin.as(`Bearer ${token.body.access_token}`).get('/files')).status).toBe(403);
      const key = await admin.post<{ key: string }>('/api-keys', { name: 'files-portal' });
      expect((await admin.as(`ApiKey ${key.body.key}`).get('/files')).status).toBe(403);
      expect((await admin.as(undefined).get('/files')).status).toBe(401);
    });

    it('reports storage up in /health', async () => {
      const health = await admin.as(undefined).get<Health>('/health');
      expect(health.status).toBe(200);
      expect(health.body.info).toMatchObject({ storage: { status: 'up', backend: 'local' }, database: { status: 'up' }, broker: { status: 'up' } });
    });

    it('streams a job result file from storage, and says 404 once it is gone', async () => {
      const content = pattern(2 * MiB + 7, 9);
      const jobId = await jobWithResult(admin, 'storage://exports/job-c/bundle.zip');
      await put(storage, 'exports/job-c/bundle.zip', content);
      const result = await download(admin, jobId);
      expect(result.status).toBe(200);
      expect(result.headers.get('content-length')).toBe(String(content.length));
      expect(result.headers.get('content-disposition')).toBe('attachment; filename="bundle.zip"');
      expect(sha256(result.bytes)).toBe(sha256(content));

      await storage.delete('exports/job-c/bundle.zip');
      const gone = await admin.get<{ message: string }>(`/jobs/${jobId}/result`);
      expect(gone.status).toBe(404);
      expect(gone.body.message).toMatch(/gone/);
      // a result naming a path outside storage's keys is refused, not resolved against the folder
      expect((await admin.get(`/jobs/${await jobWithResult(admin, '../secrets.env')}/result`)).status).toBe(404);
    });

    it('documents GET /files in the OpenAPI document', async () => {
      const { body } = await admin.as(undefined).get<{ paths: Record<string, { get?: { parameters?: { name: string }[] } }> }>('/openapi.json');
      expect(body.paths['/files']?.get?.parameters?.map((parameter) => parameter.name).sort()).toEqual(['limit', 'prefix']);
    });
  });

  describe('with GEOJOBS_STORAGE=s3 (a test S3-compatible server)', () => {
    let server: S3TestServer;
    let gateway: RunningService;
    let admin: Client;
    let storage: S3Storage;
    const bucket = 'geojobs-gateway-test';
    const credentials = { accessKeyId: 'geojobs-test', secretAccessKey: 'not-checked-by-the-test-server' };

    beforeAll(async () => {
      server = await S3TestServer.start();
      server.createBucket(bucket);
      gateway = await startService('gateway', context, {
        GEOJOBS_STORAGE: 's3',
        GEOJOBS_S3_BUCKET: bucket,
        GEOJOBS_S3_ENDPOINT: server.url,
        GEOJOBS_S3_ACCESS_KEY_ID: credentials.accessKeyId,
        GEOJOBS_S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        // the storage folder exists but must not be used
        GEOJOBS_STORAGE_DIR: `${storageDir(context)}-unused`,
      });
      services.push(gateway);
      admin = await Client.admin(gateway);
      storage = new S3Storage({ bucket, endpoint: server.url, region: 'us-east-1', forcePathStyle: true, ...credentials });
    });

    afterAll(async () => {
      await gateway?.stop();
      await storage?.close();
      await server?.close();
    });

    it('lists the bucket through ListObjectsV2', async () => {
      await put(storage, 'exports/job-s3/bundle.zip', pattern(6 * MiB, 4));
      await put(storage, 'sources/job-s3/source.kmz', pattern(2_048, 5));
      const from = server.requests.length;
      const listing = await admin.get<Listing>('/files');
      expect(listing.body).toMatchObject({ backend: 's3', count: 2, truncated: false });
      expect(listing.body.files.map(({ key, size, humanSize }) => ({ key, size, humanSize }))).toEqual([
        { key: 'exports/job-s3/bundle.zip', size: 6 * MiB, humanSize: '6.0 MiB' },
        { key: 'sources/job-s3/source.kmz', size: 2_048, humanSize: '2.0 KiB' },
      ]);
      expect(server.requests.slice(from).map((request) => request.operation)).toEqual(['ListObjectsV2']);
      expect((await admin.get<Listing>('/files?prefix=sources/')).body.files.map((file) => file.key)).toEqual(['sources/job-s3/source.kmz']);
    });

    it('streams a job result file from the bucket', async () => {
      const content = pattern(6 * MiB + 3, 8);
      await put(storage, 'exports/job-s3b/bundle.zip', content);
      const jobId = await jobWithResult(admin, 'exports/job-s3b/bundle.zip');
      const result = await download(admin, jobId);
      expect(result.status).toBe(200);
      expect(result.headers.get('content-length')).toBe(String(content.length));
      expect(sha256(result.bytes)).toBe(sha256(content));
      expect(server.requests.some((request) => request.operation === 'GetObject' && request.key === 'exports/job-s3b/bundle.zip')).toBe(true);
    });

    it('reports storage up in /health, and down (503) while the S3 server fails', async () => {
      const up = await admin.as(undefined).get<Health>('/health');
      expect(up.status).toBe(200);
      expect(up.body.info?.storage).toEqual({ status: 'up', backend: 's3' });

      server.failWith = 503;
      try {
        const down = await admin.as(undefined).get<Health>('/health');
        expect(down.status).toBe(503);
        expect(down.body.error?.storage).toMatchObject({ status: 'down', backend: 's3' });
        expect(down.body.info).toMatchObject({ database: { status: 'up' }, broker: { status: 'up' } });
      } finally {
        server.failWith = undefined;
      }
      expect((await admin.as(undefined).get('/health')).status).toBe(200);
    });
  });
});
