import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InMemoryStepCache } from './in-memory-step-cache.js';
import { definePipeline } from './pipeline.js';
import { PipelineAbortedError, PipelineStepError } from './pipeline.errors.js';
import { PipelineRunner, type PipelineProgress } from './pipeline.runner.js';
import { defineOptionalStep, defineStep } from './step.js';

interface Input {
  url: string;
  records: number;
}
interface Downloaded {
  path: string;
  bytes: number;
}
interface Unpacked {
  files: string[];
}

/** A geopreview-like pipeline whose steps count their calls and whose versions a test may bump. */
function fixture(versions: { download?: number; unpack?: number; open?: number; count?: number } = {}) {
  const calls: string[] = [];
  const download = defineStep<Input>()({
    name: 'download',
    version: versions.download ?? 1,
    needs: [],
    async process(ctx) {
      calls.push('download');
      return { path: ctx.input.url, bytes: ctx.input.url.length };
    },
    describe: (_ctx, output) => `${output.bytes} bytes`,
  });
  const unpack = defineOptionalStep<Input, { download: Downloaded }>()({
    name: 'unpack',
    version: versions.unpack ?? 1,
    needs: ['download'],
    isApplicable: (ctx) => ctx.outputs.download.path.endsWith('.zip'),
    async process(ctx) {
      calls.push('unpack');
      return { files: [`${ctx.outputs.download.path}/a.shp`, `${ctx.outputs.download.path}/b.shp`] };
    },
    describe: (_ctx, output) => `${output.files.length} files`,
  });
  const open = defineStep<Input, { download: Downloaded; unpack: Unpacked | undefined }>()({
    name: 'open',
    version: versions.open ?? 1,
    needs: ['download', 'unpack'],
    async process(ctx) {
      calls.push('open');
      return { layers: ctx.outputs.unpack?.files ?? [ctx.outputs.download.path] };
    },
  });
  // Needs only the download: a change to unpack or open must not re-run it.
  const count = defineStep<Input, { download: Downloaded }>()({
    name: 'count',
    version: versions.count ?? 1,
    needs: ['download'],
    async process(ctx) {
      calls.push('count');
      return { records: ctx.sample ?? ctx.input.records };
    },
  });
  const pipeline = definePipeline<Input>('test.preview').step(download).step(unpack).step(open).step(count);
  return { pipeline, calls };
}

describe('PipelineRunner', () => {
  let scratchRoot: string;
  let cache: InMemoryStepCache;
  let runner: PipelineRunner;
  const zip: Input = { url: 'https://example.org/roads.zip', records: 1000 };

  beforeEach(async () => {
    scratchRoot = await mkdtemp(join(tmpdir(), 'pipeline-spec-'));
    cache = new InMemoryStepCache();
    runner = new PipelineRunner({ cache, scratchRoot });
  });

  afterEach(async () => {
    await rm(scratchRoot, { recursive: true, force: true });
  });

  it('runs the steps in order, each reading the typed outputs of the steps it needs', async () => {
    const { pipeline, calls } = fixture();
    const result = await runner.run(pipeline, zip);

    expect(calls).toEqual(['download', 'unpack', 'open', 'count']);
    expect(result.outputs.open.layers).toEqual(['https://example.org/roads.zip/a.shp', 'https://example.org/roads.zip/b.shp']);
    expect(result.outputs.count.records).toBe(1000);
    expect(result.steps.map(({ name, version, status, description }) => ({ name, version, status, description }))).toEqual([
      { name: 'download', version: 1, status: 'done', description: '29 bytes' },
      { name: 'unpack', version: 1, status: 'done', description: '2 files' },
      { name: 'open', version: 1, status: 'done', description: undefined },
      { name: 'count', version: 1, status: 'done', description: undefined },
    ]);
    expect(result.steps.every((step) => typeof step.ms === 'number' && step.ms >= 0)).toBe(true);
    expect(result.sampled).toBeUndefined();
    expect(result.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('records a step that does not apply, and later steps see no output from it', async () => {
    const { pipeline, calls } = fixture();
    const result = await runner.run(pipeline, { url: 'https://example.org/roads.geojson', records: 3 });

    expect(calls).toEqual(['download', 'open', 'count']);
    expect(result.steps[1]).toMatchObject({ name: 'unpack', status: 'not-applicable' });
    expect(result.steps[1]).not.toHaveProperty('description');
    expect(result.outputs).not.toHaveProperty('unpack');
    expect(result.outputs.open.layers).toEqual(['https://example.org/roads.geojson']);
  });

  it('does no work the second time the same input is run, whatever the order of its keys', async () => {
    const { pipeline, calls } = fixture();
    const first = await runner.run(pipeline, { url: zip.url, records: zip.records });
    const second = await runner.run(pipeline, { records: zip.records, url: zip.url });

    expect(calls).toEqual(['download', 'unpack', 'open', 'count']);
    expect(second.steps.map((step) => step.status)).toEqual(['cached', 'cached', 'cached', 'cached']);
    expect(second.steps[0].description).toBe('29 bytes');
    expect(second.outputs).toEqual(first.outputs);
    expect(second.fingerprint).toBe(first.fingerprint);
  });

  it('keys the cache by the identity a run gives instead of the whole input', async () => {
    const { pipeline, calls } = fixture();
    await runner.run(pipeline, { url: 'https://a.example/x.zip', records: 3 }, { identity: { records: 3 } });
    calls.length = 0;
    const again = await runner.run(pipeline, { url: 'https://mirror.example/x.zip', records: 3 }, { identity: { records: 3 } });
    expect(calls).toEqual([]); // every step here is cached: a step reading the URL would say isNeeded
    expect(again.steps.map((step) => step.status)).toEqual(['cached', 'cached', 'cached', 'cached']);
  });

  it('does not share cached outputs between different inputs', async () => {
    const { pipeline, calls } = fixture();
    await runner.run(pipeline, zip);
    const other = await runner.run(pipeline, { ...zip, url: 'https://example.org/rivers.zip' });

    expect(calls).toEqual(['download', 'unpack', 'open', 'count', 'download', 'unpack', 'open', 'count']);
    expect(other.outputs.download.path).toBe('https://example.org/rivers.zip');
  });

  it('re-runs a step whose version was bumped and the steps that depend on it, directly or not, and no others', async () => {
    await runner.run(fixture().pipeline, zip);

    const bumped = fixture({ unpack: 2 });
    const result = await runner.run(bumped.pipeline, zip);

    expect(bumped.calls).toEqual(['unpack', 'open']);
    expect(result.steps.map((step) => [step.name, step.status])).toEqual([
      ['download', 'cached'],
      ['unpack', 'done'],
      ['open', 'done'],
      ['count', 'cached'],
    ]);

    // Bumping the first step re-runs everything that hangs off it, even if its output did not change.
    const first = fixture({ download: 2, unpack: 2 });
    await runner.run(first.pipeline, zip);
    expect(first.calls).toEqual(['download', 'unpack', 'open', 'count']);

    // And the new versions are cached in turn.
    const again = fixture({ download: 2, unpack: 2 });
    await runner.run(again.pipeline, zip);
    expect(again.calls).toEqual([]);
  });

  it('asks isNeeded, with the cached output, whether a cached step must run again', async () => {
    const calls: string[] = [];
    const seen: unknown[] = [];
    let stale = false;
    const fetchFile = defineStep<Input>()({
      name: 'fetch',
      version: 1,
      needs: [],
      isNeeded: (_ctx, cached) => {
        seen.push(cached);
        return stale;
      },
      async process() {
        calls.push('fetch');
        return { storedAt: 'storage://files/1', takenAt: new Date('2025-01-02T03:04:05Z') };
      },
    });
    const use = defineStep<Input, { fetch: { storedAt: string; takenAt: string } }>()({
      name: 'use',
      version: 1,
      needs: ['fetch'],
      async process(ctx) {
        calls.push('use');
        return ctx.outputs.fetch.takenAt;
      },
    });
    const pipeline = definePipeline<Input>('test.stale').step(fetchFile).step(use);

    const first = await runner.run(pipeline, zip);
    expect(seen).toEqual([]);
    await runner.run(pipeline, zip);
    stale = true;
    const third = await runner.run(pipeline, zip);

    // Outputs are JSON data, the same whether fresh or cached: the Date is its ISO string either way.
    expect(seen).toEqual([
      { storedAt: 'storage://files/1', takenAt: '2025-01-02T03:04:05.000Z' },
      { storedAt: 'storage://files/1', takenAt: '2025-01-02T03:04:05.000Z' },
    ]);
    expect(first.outputs.use).toBe('2025-01-02T03:04:05.000Z');
    expect(third.steps.map((step) => step.status)).toEqual(['done', 'cached']);
    expect(calls).toEqual(['fetch', 'use', 'fetch']);
  });

  it('reports progress at the start and end of every step, and from inside a step', async () => {
    const progress: PipelineProgress[] = [];
    const first = defineStep<Input>()({
      name: 'first',
      version: 1,
      needs: [],
      async process(ctx) {
        await ctx.progress('halfway');
        return 1;
      },
      describe: () => 'found one',
    });
    const second = defineStep<Input>()({ name: 'second', version: 1, needs: [], process: async () => 2 });
    const pipeline = definePipeline<Input>('test.progress').step(first).step(second);

    await runner.run(pipeline, zip, { onProgress: (p) => void progress.push(p) });

    expect(progress).toEqual([
      { current: 0, total: 2, message: 'first' },
      { current: 0, total: 2, message: 'first: halfway' },
      { current: 1, total: 2, message: 'first: found one' },
      { current: 1, total: 2, message: 'second' },
      { current: 2, total: 2, message: 'second: done' },
    ]);
  });

  it('works on a sample when asked, says so, and keeps sampled outputs apart from full ones', async () => {
    const { pipeline, calls } = fixture();
    const sampled = await runner.run(pipeline, zip, { sample: 10 });
    expect(sampled.sampled).toBe(10);
    expect(sampled.outputs.count.records).toBe(10);

    const full = await runner.run(pipeline, zip);
    expect(full.sampled).toBeUndefined();
    expect(full.outputs.count.records).toBe(1000);
    expect(calls).toHaveLength(8);

    await expect(runner.run(pipeline, zip, { sample: 0 })).rejects.toThrow(/sample must be a positive integer/);
  });

  describe('scratch folders', () => {
    const scratchPipeline = (fail: boolean) => {
      const dirs: string[] = [];
      const write = defineStep<Input>()({
        name: 'write',
        version: 1,
        needs: [],
        async process(ctx) {
          dirs.push(ctx.scratchDir);
          await writeFile(join(ctx.scratchDir, 'part.bin'), 'data');
          if (fail) throw new TypeError('disk on fire');
          return 'ok';
        },
      });
      const other = defineStep<Input>()({
        name: 'other',
        version: 1,
        needs: [],
        async process(ctx) {
          dirs.push(ctx.scratchDir);
          expect(await readdir(ctx.scratchDir)).toEqual([]); // every step starts with an empty folder
          return 'ok';
        },
      });
      return { pipeline: definePipeline<Input>('test.scratch').step(write).step(other), dirs };
    };

    it('gives each step an empty folder of its own under the scratch root and removes it after success', async () => {
      const { pipeline, dirs } = scratchPipeline(false);
      await runner.run(pipeline, zip);

      expect(dirs).toHaveLength(2);
      expect(dirs[0]).not.toBe(dirs[1]);
      expect(dirs.every((dir) => dir.startsWith(scratchRoot))).toBe(true);
      expect(await readdir(scratchRoot)).toEqual([]);
    });

    it('shares a work folder between the steps of a run, for files later steps read, and removes it with the run', async () => {
      const seen: string[] = [];
      const produce = defineStep<Input>()({
        name: 'produce',
        version: 1,
        needs: [],
        isNeeded: () => true,
        async process(ctx) {
          await writeFile(join(ctx.workDir, 'made.txt'), ctx.input.url);
          return { file: 'made.txt' };
        },
      });
      const consume = defineStep<Input, { produce: { file: string } }>()({
        name: 'consume',
        version: 1,
        needs: ['produce'],
        async process(ctx) {
          seen.push(ctx.workDir);
          return { text: await readFile(join(ctx.workDir, ctx.outputs.produce.file), 'utf8') };
        },
      });
      const result = await runner.run(definePipeline<Input>('test.work').step(produce).step(consume), zip);
      expect(result.outputs.consume).toEqual({ text: zip.url });
      expect(seen[0].startsWith(scratchRoot)).toBe(true);
      await expect(stat(seen[0])).rejects.toThrow(/ENOENT/);
    });

    it('removes it after a failure, which names the step and keeps the cause', async () => {
      const { pipeline, dirs } = scratchPipeline(true);
      const failure = await runner.run(pipeline, zip).catch((error: unknown) => error);

      expect(failure).toBeInstanceOf(PipelineStepError);
      expect(failure).toMatchObject({ step: 'write', message: 'step "write" failed: disk on fire' });
      expect((failure as PipelineStepError).cause).toBeInstanceOf(TypeError);
      expect(dirs).toHaveLength(1);
      await expect(stat(dirs[0])).rejects.toThrow(/ENOENT/);
      expect(await readdir(scratchRoot)).toEqual([]);
      expect(cache.entries.size).toBe(0);
    });
  });

  describe('cancellation', () => {
    it('stops between steps when the signal fires, and removes the scratch folder', async () => {
      const controller = new AbortController();
      const calls: string[] = [];
      const first = defineStep<Input>()({
        name: 'first',
        version: 1,
        needs: [],
        async process() {
          calls.push('first');
          controller.abort(new Error('job cancelled'));
          return 1;
        },
      });
      const second = defineStep<Input>()({
        name: 'second',
        version: 1,
        needs: [],
        async process() {
          calls.push('second');
          return 2;
        },
      });
      const run = runner.run(definePipeline<Input>('test.abort').step(first).step(second), zip, { signal: controller.signal });

      await expect(run).rejects.toThrow(PipelineAbortedError);
      await expect(run).rejects.toMatchObject({ name: 'AbortError', step: 'first' });
      expect(calls).toEqual(['first']);
      expect(cache.entries.size).toBe(0); // the step finished, but the run was cancelled: nothing is kept
      expect(await readdir(scratchRoot)).toEqual([]);
    });

    it('passes the signal to a running step, which stops with it', async () => {
      const controller = new AbortController();
      const slow = defineStep<Input>()({
        name: 'slow',
        version: 1,
        needs: [],
        async process(ctx) {
          await sleep(60_000, undefined, { signal: ctx.signal });
          return 'never';
        },
      });
      const run = runner.run(definePipeline<Input>('test.abort').step(slow), zip, { signal: controller.signal });
      setTimeout(() => controller.abort(), 20);

      const failure = await run.catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(PipelineAbortedError);
      expect((failure as PipelineAbortedError).cause).toMatchObject({ name: 'AbortError' });
      expect(await readdir(scratchRoot)).toEqual([]);
    });

    it('abandons a step that ignores the signal instead of waiting for it', async () => {
      const controller = new AbortController();
      let release = () => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      let finished = Promise.resolve();
      const stubborn = defineStep<Input>()({
        name: 'stubborn',
        version: 1,
        needs: [],
        async process() {
          finished = gate;
          await gate; // never looks at ctx.signal
          throw new Error('finished late');
        },
      });
      const run = runner.run(definePipeline<Input>('test.abort').step(stubborn), zip, { signal: controller.signal });
      setTimeout(() => controller.abort(), 20);

      await expect(run).rejects.toThrow(PipelineAbortedError);
      expect(await readdir(scratchRoot)).toEqual([]);
      // The abandoned step's late failure goes nowhere (no unhandled rejection).
      release();
      await finished;
    });

    it('does not start when the signal has fired already', async () => {
      const { pipeline, calls } = fixture();
      await expect(runner.run(pipeline, zip, { signal: AbortSignal.abort() })).rejects.toMatchObject({ step: 'download' });
      expect(calls).toEqual([]);
    });
  });
});
