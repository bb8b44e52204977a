/**
 * What every Storage backend must do, as one suite run against each (LocalStorage in
 * libs/shared/src/storage/local-storage.spec.ts, S3Storage in test/storage/storage.e2e-spec.ts), so the
 * services can switch backends by configuration without noticing.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { StorageNotFoundError, type Storage } from '#shared';

export interface StorageUnderTest {
  storage: Storage;
  /** Traces of unfinished writes the backend keeps (partial files, open multipart uploads): none after any write. */
  leftovers(): Promise<number>;
  dispose(): Promise<void>;
}

export const MiB = 1024 * 1024;

/** Deterministic bytes, different at every offset, so a shifted or repeated chunk changes the digest. */
export function pattern(size: number, seed = 1): Buffer {
  const bytes = Buffer.alloc(size);
  let state = seed;
  for (let index = 0; index + 4 <= size; index += 4) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    bytes.writeUInt32LE(state, index);
  }
  return bytes;
}

/** A stream of `size` bytes in 64 KiB chunks that never exists whole, with the digest of what it produced. */
export function generated(size: number): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  const chunk = pattern(64 * 1024, 7);
  let sent = 0;
  const stream = Readable.from(
    (function* () {
      while (sent < size) {
        const next = chunk.subarray(0, Math.min(chunk.length, size - sent));
        // vary each chunk by its position, so the object is not one chunk repeated
        const piece = Buffer.from(next);
        if (piece.length >= 4) piece.writeUInt32LE(sent >>> 0, 0);
        hash.update(piece);
        sent += piece.length;
        yield piece;
      }
    })(),
  );
  return { stream, digest: () => hash.digest('hex') };
}

/** `bytes` first, then the stream fails with `error` (a producer that dies half-way). */
export function failingAfter(bytes: number, error: Error): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytes) return void this.destroy(error);
      const piece = pattern(Math.min(256 * 1024, bytes - sent), sent + 3);
      sent += piece.length;
      this.push(piece);
    },
  });
}

/**
 * A producer that goes on for ever, slowly (a step still building its archive when the job is cancelled);
 * `onProduced` hears the running byte count.
 */
export function endless(onProduced: (bytes: number) => void): Readable {
  let produced = 0;
  return new Readable({
    read() {
      setTimeout(() => {
        produced += 64 * 1024;
        this.push(pattern(64 * 1024, 11));
        onProduced(produced);
      }, 2);
    },
  });
}

/** A Date from any realm: Node's fs makes its Dates outside the jest sandbox, where `instanceof Date` fails. */
const isDate = (value: unknown): boolean => Object.prototype.toString.call(value) === '[object Date]' && !Number.isNaN((value as Date).getTime());

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

async function keysOf(storage: Storage, prefix?: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of storage.list(prefix)) keys.push(object.key);
  return keys;
}

const BAD_KEYS = ['', '/etc/passwd', '../outside', 'a/../../outside', 'a/./b', 'a//b', 'trailing/', 'back\\slash', 'sp ace', '..', '.'];

/** Registers the behavioural tests of a Storage backend; `create` gives a fresh, empty one for each test. */
export function describeStorageBehaviour(name: string, create: () => Promise<StorageUnderTest>): void {
  describe(`${name}: Storage behaviour`, () => {
    let subject: StorageUnderTest;
    let storage: Storage;
    let scratch: string;

    beforeEach(async () => {
      subject = await create();
      storage = subject.storage;
      scratch = await mkdtemp(join(tmpdir(), 'geojobs-storage-test-'));
    });

    afterEach(async () => {
      await subject.dispose();
      await rm(scratch, { recursive: true, force: true });
    });

    it.each(BAD_KEYS)('refuses the key %j in every method, touching nothing', async (key) => {
      const file = join(scratch, 'in');
      await writeFile(file, 'x');
      await expect(storage.write(key, Readable.from([Buffer.from('x')]))).rejects.toThrow(RangeError);
      await expect(storage.upload(key, file)).rejects.toThrow(RangeError);
      await expect(storage.read(key)).rejects.toThrow(RangeError);
      await expect(storage.download(key, join(scratch, 'out'))).rejects.toThrow(RangeError);
      await expect(storage.stat(key)).rejects.toThrow(RangeError);
      await expect(storage.delete(key)).rejects.toThrow(RangeError);
      await expect(storage.deletePrefix(`${key}/`)).rejects.toThrow(RangeError);
      expect(await keysOf(storage)).toEqual([]);
    });

    it('refuses to delete a prefix that does not end with "/" (it would catch jobs/10 when meaning jobs/1)', async () => {
      await storage.write('jobs/10/a.txt', Readable.from([Buffer.from('ten')]));
      await expect(storage.deletePrefix('jobs/1')).rejects.toThrow(/must end with "\/"/);
      expect(await keysOf(storage)).toEqual(['jobs/10/a.txt']);
    });

    it('writes, reads back, describes and replaces an object', async () => {
      const before = Date.now();
      const written = await storage.write('exports/job-1/readme.txt', Readable.from([Buffer.from('hello '), Buffer.from('world')]), {
        contentType: 'text/plain',
      });
      expect(written).toMatchObject({ key: 'exports/job-1/readme.txt', size: 11 });
      expect(isDate(written.modifiedAt)).toBe(true);
      // a second of slack both ways: S3 dates have whole seconds
      expect(written.modifiedAt.getTime()).toBeGreaterThanOrEqual(before - 1_000);
      expect(written.modifiedAt.getTime()).toBeLessThanOrEqual(Date.now() + 1_000);
      expect((await buffer(await storage.read('exports/job-1/readme.txt'))).toString()).toBe('hello world');
      expect(await storage.stat('exports/job-1/readme.txt')).toEqual(written);

      await storage.write('exports/job-1/readme.txt', Readable.from([Buffer.from('shorter')]));
      expect((await buffer(await storage.read('exports/job-1/readme.txt'))).toString()).toBe('shorter');
      expect((await storage.stat('exports/job-1/readme.txt'))?.size).toBe(7);
      expect(await subject.leftovers()).toBe(0);
    });

    it('writes an empty object', async () => {
      expect((await storage.write('empty.txt', Readable.from([]))).size).toBe(0);
      expect(await buffer(await storage.read('empty.txt'))).toEqual(Buffer.alloc(0));
    });

    it('streams a 12 MiB object in and out intact', async () => {
      const size = 12 * MiB + 12_345; // not a whole number of parts
      const source = generated(size);
      const written = await storage.write('big/layer.gpkg', source.stream);
      const digest = source.digest();
      expect(written.size).toBe(size);
      const back = await buffer(await storage.read('big/layer.gpkg'));
      expect(back.length).toBe(size);
      expect(sha256(back)).toBe(digest);

      const copy = join(scratch, 'copy.gpkg');
      expect(await storage.download('big/layer.gpkg', copy)).toMatchObject({ key: 'big/layer.gpkg', size });
      expect(sha256(await readFile(copy))).toBe(digest);
      expect(await subject.leftovers()).toBe(0);
    });

    it('uploads a local file and downloads it to another', async () => {
      const file = join(scratch, 'source.zip');
      const content = pattern(300_000, 5);
      await writeFile(file, content);
      expect(await storage.upload('sources/job-2/source.zip', file)).toMatchObject({ key: 'sources/job-2/source.zip', size: content.length });
      const target = join(scratch, 'downloaded.zip');
      await storage.download('sources/job-2/source.zip', target);
      expect(sha256(await readFile(target))).toBe(sha256(content));
    });

    it('says an object is missing: StorageNotFoundError on read and download, undefined from stat, no error on delete', async () => {
      await expect(storage.read('nothing/here.txt')).rejects.toBeInstanceOf(StorageNotFoundError);
      await expect(storage.read('nothing/here.txt')).rejects.toMatchObject({ key: 'nothing/here.txt' });
      const target = join(scratch, 'never.txt');
      await expect(storage.download('nothing/here.txt', target)).rejects.toBeInstanceOf(StorageNotFoundError);
      await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await storage.stat('nothing/here.txt')).toBeUndefined();
      await expect(storage.delete('nothing/here.txt')).resolves.toBeUndefined();
    });

    it('lists objects in key order with their sizes, filtered by prefix', async () => {
      const sizes: Record<string, number> = { 'b/2.txt': 2, 'a/1.txt': 1, 'ab/3.txt': 3, 'a/sub/4.txt': 4, 'c.txt': 5 };
      for (const [key, size] of Object.entries(sizes)) await storage.write(key, Readable.from([Buffer.alloc(size, 120)]));
      const all: { key: string; size: number }[] = [];
      for await (const object of storage.list()) {
        expect(isDate(object.modifiedAt)).toBe(true);
        all.push({ key: object.key, size: object.size });
      }
      expect(all).toEqual([
        { key: 'a/1.txt', size: 1 },
        { key: 'a/sub/4.txt', size: 4 },
        { key: 'ab/3.txt', size: 3 },
        { key: 'b/2.txt', size: 2 },
        { key: 'c.txt', size: 5 },
      ]);
      expect(await keysOf(storage, 'a/')).toEqual(['a/1.txt', 'a/sub/4.txt']);
      expect(await keysOf(storage, 'a')).toEqual(['a/1.txt', 'a/sub/4.txt', 'ab/3.txt']);
      expect(await keysOf(storage, 'zzz/')).toEqual([]);
    });

    it('deletes one object, and every object under a prefix but nothing beside it', async () => {
      for (const key of ['jobs/1/a.txt', 'jobs/1/deep/b.txt', 'jobs/10/c.txt', 'jobs/1.txt', 'other/d.txt']) {
        await storage.write(key, Readable.from([Buffer.from(key)]));
      }
      await storage.delete('other/d.txt');
      expect(await storage.stat('other/d.txt')).toBeUndefined();
      expect(await storage.deletePrefix('jobs/1/')).toBe(2);
      expect(await keysOf(storage)).toEqual(['jobs/1.txt', 'jobs/10/c.txt']);
      expect(await storage.deletePrefix('jobs/1/')).toBe(0);
      expect(await storage.deletePrefix('never/')).toBe(0);
    });

    it('leaves no object (and keeps the previous one) when the source fails half-way', async () => {
      await storage.write('exports/job-3/bundle.zip', Readable.from([Buffer.from('previous bundle')]));
      const failure = new Error('archiver: ENOSPC');
      await expect(storage.write('exports/job-3/bundle.zip', failingAfter(6 * MiB, failure))).rejects.toThrow('archiver: ENOSPC');
      await expect(storage.write('exports/job-3/other.zip', failingAfter(100, failure))).rejects.toThrow('archiver: ENOSPC');
      expect((await buffer(await storage.read('exports/job-3/bundle.zip'))).toString()).toBe('previous bundle');
      expect(await keysOf(storage)).toEqual(['exports/job-3/bundle.zip']);
      expect(await subject.leftovers()).toBe(0);
    });

    it('stops a write when its signal is aborted, leaving no object and no partial upload', async () => {
      const controller = new AbortController();
      // abort once a multipart upload would have started and sent a part
      const source = endless((bytes) => bytes >= 6 * MiB && controller.abort());
      const write = storage.write('exports/job-4/bundle.zip', source, { signal: controller.signal });
      await expect(write).rejects.toMatchObject({ name: 'AbortError' });
      expect(source.destroyed).toBe(true);
      expect(await storage.stat('exports/job-4/bundle.zip')).toBeUndefined();
      expect(await subject.leftovers()).toBe(0);

      await expect(storage.write('exports/job-4/late.zip', Readable.from([Buffer.from('x')]), { signal: AbortSignal.abort() })).rejects.toMatchObject({
        name: 'AbortError',
      });
      expect(await keysOf(storage)).toEqual([]);
    }, 60_000);

    it('ends a read stream when its signal is aborted', async () => {
      await storage.write('big/read.bin', generated(3 * MiB).stream);
      const controller = new AbortController();
      const stream = await storage.read('big/read.bin', { signal: controller.signal });
      let received = 0;
      const consumed = (async () => {
        for await (const chunk of stream) {
          received += (chunk as Buffer).length;
          if (!controller.signal.aborted) controller.abort();
        }
      })();
      await expect(consumed).rejects.toMatchObject({ name: 'AbortError' });
      expect(received).toBeLessThan(3 * MiB);
    });

    it('passes its health check', async () => {
      await expect(storage.check()).resolves.toBeUndefined();
    });
  });
}
