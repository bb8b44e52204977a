import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { createStorage, loadConfig, S3Storage, ServiceConfig } from '#shared';
import { S3TestServer } from '../harness/s3-server.js';
import { describeStorageBehaviour, endless, failingAfter, generated, MiB } from './storage-behaviour.js';

const CREDENTIALS = { accessKeyId: 'geojobs-test', secretAccessKey: 'not-checked-by-the-test-server' };

let server: S3TestServer;

beforeAll(async () => {
  server = await S3TestServer.start();
});

afterAll(() => server?.close());

/** A fresh bucket on the test server and an S3Storage on it; parts of S3's minimum 5 MiB, so 6 MiB is multipart. */
function s3Storage(extra: Partial<ConstructorParameters<typeof S3Storage>[0]> = {}): { storage: S3Storage; bucket: string } {
  const bucket = `geojobs-test-${randomBytes(4).toString('hex')}`;
  server.createBucket(bucket);
  const storage = new S3Storage({ bucket, endpoint: server.url, region: 'us-east-1', forcePathStyle: true, partSize: 5 * MiB, ...CREDENTIALS, ...extra });
  return { storage, bucket };
}

describeStorageBehaviour('S3Storage', async () => {
  const { storage, bucket } = s3Storage();
  return {
    storage,
    leftovers: async () => server.openUploads(bucket),
    dispose: async () => {
      await storage.close();
      server.deleteBucket(bucket);
    },
  };
});

describe('S3Storage against an S3-compatible server', () => {
  let storage: S3Storage;
  let bucket: string;

  beforeEach(() => {
    ({ storage, bucket } = s3Storage());
    server.listPageSize = 1_000;
    server.failWith = undefined;
  });

  afterEach(() => storage.close());

  /** The requests on this test's bucket from the `from`th on. */
  const sentSince = (from: number) => server.requests.slice(from).filter((request) => request.bucket === bucket);
  const operations = (from: number) => sentSince(from).map((request) => request.operation);

  it('sends a small object as one PutObject and a large one as a multipart upload of 5 MiB parts', async () => {
    let from = server.requests.length;
    await storage.write('small.txt', Readable.from([Buffer.from('small')]), { contentType: 'text/plain' });
    expect(operations(from)).toEqual(['PutObject', 'HeadObject']);

    from = server.requests.length;
    const source = generated(12 * MiB);
    await storage.write('big.bin', source.stream);
    const big = sentSince(from);
    expect(big.map((request) => request.operation)).toEqual([
      'CreateMultipartUpload',
      'UploadPart',
      'UploadPart',
      'UploadPart',
      'CompleteMultipartUpload',
      'HeadObject',
    ]);
    expect(big.filter((request) => request.operation === 'UploadPart').map((request) => request.bytes)).toEqual([5 * MiB, 5 * MiB, 2 * MiB]);
    expect(server.object(bucket, 'big.bin')?.length).toBe(12 * MiB);
    expect(server.openUploads(bucket)).toBe(0);
  });

  it('aborts the multipart upload when the source fails after a part was sent', async () => {
    const from = server.requests.length;
    await expect(storage.write('broken.zip', failingAfter(11 * MiB, new Error('the archive broke')))).rejects.toThrow('the archive broke');
    const sent = operations(from);
    expect(sent).toContain('UploadPart');
    expect(sent.at(-1)).toBe('AbortMultipartUpload');
    expect(sent).not.toContain('CompleteMultipartUpload');
    expect(server.openUploads(bucket)).toBe(0);
    expect(server.keys(bucket)).toEqual([]);
  });

  it('cancels the multipart upload before an aborted write rejects', async () => {
    const controller = new AbortController();
    const from = server.requests.length;
    const source = endless((bytes) => bytes >= 11 * MiB && controller.abort());
    await expect(storage.write('cancelled.zip', source, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    const sent = operations(from);
    expect(sent.slice(0, 2)).toEqual(['CreateMultipartUpload', 'UploadPart']);
    expect(sent.at(-1)).toBe('AbortMultipartUpload');
    expect(server.openUploads(bucket)).toBe(0);
    expect(server.keys(bucket)).toEqual([]);
  });

  it('follows continuation tokens through a listing the server splits into pages', async () => {
    const keys = Array.from({ length: 7 }, (_, index) => `layers/${index}.geojson`);
    for (const key of keys) await storage.write(key, Readable.from([Buffer.from(key)]));
    server.listPageSize = 3;
    const from = server.requests.length;
    const listed: string[] = [];
    for await (const object of storage.list('layers/')) listed.push(object.key);
    expect(listed).toEqual(keys);
    expect(operations(from)).toEqual(['ListObjectsV2', 'ListObjectsV2', 'ListObjectsV2']);
    expect(sentSince(from).map((request) => request.query['continuation-token'] !== undefined)).toEqual([false, true, true]);
  });

  it('deletes a prefix of 1,005 objects in DeleteObjects batches of at most 1,000 keys', async () => {
    const keys = Array.from({ length: 1_005 }, (_, index) => `exports/job-9/tiles/${String(index).padStart(4, '0')}.pbf`);
    for (let start = 0; start < keys.length; start += 25) {
      await Promise.all(keys.slice(start, start + 25).map((key) => storage.write(key, Readable.from([Buffer.from('t')]))));
    }
    await storage.write('exports/job-90/kept.zip', Readable.from([Buffer.from('kept')]));
    const from = server.requests.length;
    expect(await storage.deletePrefix('exports/job-9/')).toBe(1_005);
    expect(operations(from).filter((operation) => operation === 'DeleteObjects')).toHaveLength(2);
    expect(server.keys(bucket)).toEqual(['exports/job-90/kept.zip']);
  });

  it('fails its health check when the bucket is missing or the server fails, and while it does not answer in time', async () => {
    await expect(storage.check()).resolves.toBeUndefined();
    expect(server.requests.at(-1)?.operation).toBe('HeadBucket');

    server.deleteBucket(bucket);
    await expect(storage.check()).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    server.createBucket(bucket);

    server.failWith = 503;
    await expect(storage.check()).rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
    server.failWith = undefined;

    const sockets: Socket[] = [];
    const stalled = createServer((socket) => sockets.push(socket)); // accepts connections, never answers
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(stalled.address() as AddressInfo).port}`;
    const silent = new S3Storage({ bucket, endpoint, region: 'us-east-1', forcePathStyle: true, ...CREDENTIALS });
    const started = Date.now();
    await expect(silent.check({ signal: AbortSignal.timeout(300) })).rejects.toMatchObject({ name: expect.stringMatching(/Abort|Timeout/) });
    expect(Date.now() - started).toBeLessThan(2_000);
    await silent.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => stalled.close(resolve));
  });

  it('is what createStorage builds for GEOJOBS_STORAGE=s3', async () => {
    const config = loadConfig(ServiceConfig, {
      GEOJOBS_AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
      GEOJOBS_STORAGE: 's3',
      GEOJOBS_S3_BUCKET: bucket,
      GEOJOBS_S3_ENDPOINT: server.url,
      GEOJOBS_S3_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      GEOJOBS_S3_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    });
    const configured = createStorage(config);
    expect(configured).toBeInstanceOf(S3Storage);
    expect(configured.kind).toBe('s3');
    await configured.write('via-config.txt', Readable.from([Buffer.from('through the factory')]));
    expect(server.object(bucket, 'via-config.txt')?.toString()).toBe('through the factory');
    expect((await buffer(await configured.read('via-config.txt'))).toString()).toBe('through the factory');
    await configured.close?.();
  });
});
