import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { HostPolicy } from '#shared';
import { RemoteFileError, RemoteFiles, type RemoteFilesOptions } from '../../apps/export-service/src/convert/remote/remote-files.service.js';
import { S3TestServer } from '../harness/s3-server.js';
import { MiB, pattern, sha256 } from '../storage/storage-behaviour.js';

/** A stream of `source` in 1 MiB chunks that stops giving bytes after `pauseAfter` (`reached` then resolves). */
function slowStream(source: Buffer, pauseAfter: number): { stream: Readable; reached: Promise<void> } {
  let offset = 0;
  let reachedResolve!: () => void;
  const reached = new Promise<void>((resolve) => (reachedResolve = resolve));
  const stream = new Readable({
    read() {
      if (offset >= pauseAfter) {
        reachedResolve();
        return; // never more: the test cancels the upload here
      }
      const chunk = source.subarray(offset, offset + MiB);
      offset += chunk.length;
      this.push(chunk);
    },
  });
  return { stream, reached };
}

describe('RemoteFiles: gs://, s3:// and http(s) files of export.convert (local S3-compatible server)', () => {
  let s3: S3TestServer;
  let http: Server;
  let httpUrl: string;
  let folder: string;
  const puts: Buffer[] = [];
  const made: RemoteFiles[] = [];

  const remoteFiles = (overrides: Partial<RemoteFilesOptions> = {}): RemoteFiles => {
    const files = new RemoteFiles({
      policy: new HostPolicy(['127.0.0.1']),
      gcs: { endpoint: s3.url, region: 'auto', accessKeyId: 'GOOG1EXAMPLE', secretAccessKey: 'secret' },
      s3: { endpoint: s3.url, region: 'us-east-1', accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' },
      storageBucket: 'geojobs-storage',
      partSize: 5 * MiB,
      ...overrides,
    });
    made.push(files);
    return files;
  };

  beforeAll(async () => {
    s3 = await S3TestServer.start();
    s3.createBucket('sms-rio');
    s3.createBucket('other');
    http = createServer((request, response) => {
      if (request.url === '/redirect') return void response.writeHead(302, { location: '/file.gdb' }).end();
      if (request.url === '/file.gdb') return void response.writeHead(200, { 'content-length': '6' }).end('GDB!!!');
      if (request.url === '/lying') {
        response.writeHead(200); // no Content-Length: the cap is checked on the bytes received
        return void response.end(pattern(3 * MiB));
      }
      if (request.method === 'PUT' && request.url === '/upload') return void buffer(request).then((body) => (puts.push(body), response.writeHead(200).end()));
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    folder = await mkdtemp(join(tmpdir(), 'remote-files-'));
  });

  afterAll(async () => {
    await Promise.all(made.map((files) => files.onApplicationShutdown()));
    await s3?.close();
    http?.closeAllConnections();
    await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('downloads a gs:// object to a file, path-style from the configured endpoint', async () => {
    const bytes = pattern(7 * MiB + 3);
    await remoteFiles().upload('gs://sms-rio/in/BACKUP.GDB', Readable.from([bytes]));
    const path = join(folder, 'backup.gdb');
    const object = await remoteFiles().download('gs://sms-rio/in/BACKUP.GDB', path, { maxBytes: 10 * MiB });
    expect(object.size).toBe(bytes.length);
    expect(sha256(await readFile(path))).toBe(sha256(bytes));
    expect(s3.requests.some((request) => request.operation === 'GetObject' && request.bucket === 'sms-rio' && request.key === 'in/BACKUP.GDB')).toBe(true);
  });

  it('uploads a stream as a multipart upload in parts, the bytes whole at the end', async () => {
    const bytes = pattern(12 * MiB + 17);
    const before = s3.requests.length;
    const object = await remoteFiles().upload('s3://other/out/big.zip', Readable.from([bytes]));
    expect(object).toMatchObject({ uri: 's3://other/out/big.zip', size: bytes.length });
    expect(sha256(s3.object('other', 'out/big.zip')!)).toBe(sha256(bytes));
    const operations = s3.requests.slice(before).map((request) => request.operation);
    expect(operations.filter((operation) => operation === 'UploadPart')).toHaveLength(3);
    expect(operations).toContain('CompleteMultipartUpload');
  });

  it('a cancelled upload leaves neither an object nor an unfinished multipart upload', async () => {
    const controller = new AbortController();
    const { stream, reached } = slowStream(pattern(20 * MiB), 11 * MiB);
    const uploading = remoteFiles().upload('gs://sms-rio/out/cancelled.zip', stream, { signal: controller.signal });
    await reached;
    await new Promise((resolve) => setTimeout(resolve, 200)); // parts in flight
    controller.abort(new Error('the job was cancelled'));
    await expect(uploading).rejects.toThrow('the job was cancelled');
    expect(s3.keys('sms-rio')).not.toContain('out/cancelled.zip');
    expect(s3.openUploads('sms-rio')).toBe(0);
    expect(s3.requests.some((request) => request.operation === 'AbortMultipartUpload')).toBe(true);
  });

  it('refuses a download over the size cap and leaves no file', async () => {
    await remoteFiles().upload('gs://sms-rio/in/huge.fbk', Readable.from([pattern(2 * MiB)]));
    const path = join(folder, 'huge.fbk');
    const refused = remoteFiles().download('gs://sms-rio/in/huge.fbk', path, { maxBytes: MiB });
    await expect(refused).rejects.toThrow(RemoteFileError);
    await expect(refused).rejects.toThrow(`gs://sms-rio/in/huge.fbk is ${2 * MiB} bytes, over the limit of ${MiB} bytes`);
    expect(existsSync(path)).toBe(false);
    // and on the bytes received when the server declares no length
    const lying = join(folder, 'lying');
    await expect(remoteFiles().download(`${httpUrl}/lying`, lying, { maxBytes: MiB })).rejects.toThrow(/over the limit of 1048576 bytes/);
    expect(existsSync(lying)).toBe(false);
  });

  it('names a missing object, stats and deletes', async () => {
    const files = remoteFiles();
    await expect(files.download('gs://sms-rio/nope.gdb', join(folder, 'nope'), { maxBytes: MiB })).rejects.toMatchObject({
      reason: 'not-found',
      message: 'gs://sms-rio/nope.gdb does not exist (NoSuchKey)',
    });
    await expect(files.download('gs://no-such-bucket/x.gdb', join(folder, 'nope'), { maxBytes: MiB })).rejects.toMatchObject({ reason: 'not-found' });
    expect(await files.stat('gs://sms-rio/nope.gdb')).toBeUndefined();
    await files.upload('gs://sms-rio/tmp/x.zip', Readable.from([Buffer.from('zip')]));
    expect(await files.stat('gs://sms-rio/tmp/x.zip')).toMatchObject({ size: 3 });
    await files.delete('gs://sms-rio/tmp/x.zip');
    expect(s3.keys('sms-rio')).not.toContain('tmp/x.zip');
  });

  it('picks the output beside the input, numbered like SMS-Rio when the name is taken', async () => {
    const files = remoteFiles();
    expect(await files.vacantBeside('gs://sms-rio/beside/BACKUP.GDB')).toBe('gs://sms-rio/beside/BACKUP.zip');
    await files.upload('gs://sms-rio/beside/BACKUP.zip', Readable.from([Buffer.from('older export')]));
    expect(await files.vacantBeside('gs://sms-rio/beside/BACKUP.GDB')).toBe('gs://sms-rio/beside/BACKUP-export1.zip');
    expect(await files.vacantBeside(`${httpUrl}/BACKUP.GDB`)).toBeUndefined();
  });

  it('refuses an endpoint on a private address unless GEOJOBS_ALLOWED_HOSTS allows it', async () => {
    const files = remoteFiles({ policy: new HostPolicy([]) });
    await expect(files.download('gs://sms-rio/in/BACKUP.GDB', join(folder, 'refused'), { maxBytes: MiB })).rejects.toThrow(
      /127\.0\.0\.1 is a loopback address: not a public address and not in GEOJOBS_ALLOWED_HOSTS/,
    );
    await expect(files.download(`${httpUrl}/file.gdb`, join(folder, 'refused'), { maxBytes: MiB })).rejects.toMatchObject({ reason: 'address-refused' });
    // a name resolving to a loopback address is refused by the policy's lookup as the socket connects
    const named = remoteFiles({
      policy: new HostPolicy([]),
      gcs: { endpoint: s3.url.replace('127.0.0.1', 'localhost'), region: 'auto', accessKeyId: 'a', secretAccessKey: 'b' },
    });
    await expect(named.stat('gs://sms-rio/in/BACKUP.GDB')).rejects.toMatchObject({ reason: 'address-refused' });
  });

  it('refuses buckets it has no key for, and geojobs’ own storage bucket', async () => {
    await expect(remoteFiles({ gcs: undefined }).stat('gs://sms-rio/x')).rejects.toThrow(
      'gs:// URIs are not enabled on this geojobs: GEOJOBS_GCS_HMAC_ACCESS_ID and GEOJOBS_GCS_HMAC_SECRET are not set',
    );
    await expect(remoteFiles().stat('s3://geojobs-storage/exports/x.zip')).rejects.toThrow(/geojobs' own storage bucket/);
    await expect(remoteFiles().download('ftp://host/x', join(folder, 'x'), { maxBytes: 1 })).rejects.toMatchObject({ reason: 'invalid-uri' });
  });

  it('fails on an endpoint that stops answering, after the read timeout, rather than holding the job', async () => {
    const stalled = createServer(() => undefined); // takes requests, never answers
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(stalled.address() as AddressInfo).port}`;
      const files = remoteFiles({ readTimeoutMs: 300, gcs: { endpoint, region: 'auto', accessKeyId: 'a', secretAccessKey: 'b' } });
      const started = Date.now();
      await expect(files.stat('gs://sms-rio/in/BACKUP.GDB')).rejects.toThrow();
      await expect(files.download(`${endpoint}/BACKUP.GDB`, join(folder, 'stalled'), { maxBytes: MiB })).rejects.toMatchObject({
        reason: 'timeout',
        message: `no data from ${endpoint}/BACKUP.GDB for 300 ms`,
      });
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      stalled.closeAllConnections();
      await new Promise<void>((resolve) => stalled.close(() => resolve()));
    }
  });

  it('downloads http(s) through redirects and uploads with one PUT', async () => {
    const path = join(folder, 'http.gdb');
    expect(await remoteFiles().download(`${httpUrl}/redirect`, path, { maxBytes: MiB })).toMatchObject({ size: 6 });
    expect(await readFile(path, 'utf8')).toBe('GDB!!!');
    await expect(remoteFiles().download(`${httpUrl}/missing`, path, { maxBytes: MiB })).rejects.toMatchObject({ reason: 'not-found' });
    const bytes = pattern(MiB + 5);
    expect(await remoteFiles().upload(`${httpUrl}/upload`, Readable.from([bytes]), { size: bytes.length })).toMatchObject({ size: bytes.length });
    expect(sha256(puts.at(-1)!)).toBe(sha256(bytes));
  });
});
