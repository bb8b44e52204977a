import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describeStorageBehaviour } from '../../../../test/storage/storage-behaviour.js';
import { LocalStorage } from './local-storage.js';

describeStorageBehaviour('LocalStorage', async () => {
  const root = await mkdtemp(join(tmpdir(), 'geojobs-local-storage-'));
  return {
    storage: new LocalStorage(root),
    leftovers: async () => (await readdir(join(root, '.partial')).catch(() => [])).length,
    dispose: () => rm(root, { recursive: true, force: true }),
  };
});

describe('LocalStorage in its folder', () => {
  let root: string;
  let storage: LocalStorage;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'geojobs-local-storage-'));
    storage = new LocalStorage(root);
  });

  afterEach(() => rm(root, { recursive: true, force: true }));

  it('keeps an object as the file at its key below the folder', async () => {
    await storage.write('exports/job-1/readme.txt', Readable.from([Buffer.from('hello')]));
    expect(await readFile(join(root, 'exports', 'job-1', 'readme.txt'), 'utf8')).toBe('hello');
  });

  it('lists files put in the folder by other means, and never the partial writes', async () => {
    await mkdir(join(root, 'manual'), { recursive: true });
    await writeFile(join(root, 'manual', 'dropped.csv'), 'a,b\n');
    const body = new PassThrough();
    const writing = storage.write('exports/job-2/bundle.zip', body);
    body.write(Buffer.alloc(1_000));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // half written: in the partial folder, not at its key and not listed
    expect(await readdir(join(root, '.partial'))).toHaveLength(1);
    const listed: string[] = [];
    for await (const object of storage.list()) listed.push(object.key);
    expect(listed).toEqual(['manual/dropped.csv']);
    expect(await storage.stat('exports/job-2/bundle.zip')).toBeUndefined();

    body.end(Buffer.alloc(24));
    expect((await writing).size).toBe(1_024);
    expect(await readdir(join(root, '.partial'))).toEqual([]);
  });

  it('lists only the folder a prefix is in, skipping names no key can have, and nothing outside the root', async () => {
    await mkdir(join(root, 'manual'), { recursive: true });
    await writeFile(join(root, 'manual', 'dropped.csv'), 'a,b\n');
    await writeFile(join(root, 'manual', 'with space.csv'), 'a,b\n');
    await storage.write('other/kept.txt', Readable.from([Buffer.from('x')]));
    const keys = async (prefix?: string) => {
      const listed: string[] = [];
      for await (const object of storage.list(prefix)) listed.push(object.key);
      return listed;
    };
    expect(await keys('manual/')).toEqual(['manual/dropped.csv']);
    expect(await keys()).toEqual(['manual/dropped.csv', 'other/kept.txt']);
    expect(await keys('../')).toEqual([]);
    expect(await keys('manual//')).toEqual([]);
  });

  it('fails its health check when the folder cannot be written', async () => {
    const file = join(root, 'not-a-folder');
    await writeFile(file, '');
    await expect(new LocalStorage(file).check()).rejects.toMatchObject({ code: expect.stringMatching(/^(ENOTDIR|EEXIST)$/) });
  });
});
