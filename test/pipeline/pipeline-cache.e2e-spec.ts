import { DataSource } from 'typeorm';
import { definePipeline, defineStep, PipelineRunner, PostgresStepCache } from '#shared';
import { createTestContext, type TestContext } from '../harness/context.js';

interface ImportInput {
  url: string;
  options: { encoding: string };
}

/** A download → import pipeline whose import is the expensive step; counts what really ran. */
function importPipeline(versions: { download: number; import: number }) {
  const calls: string[] = [];
  const download = defineStep<ImportInput>()({
    name: 'download',
    version: versions.download,
    needs: [],
    async process(ctx) {
      calls.push(`download ${ctx.input.url}`);
      return { storedAt: `storage://downloads/${encodeURIComponent(ctx.input.url)}`, bytes: 1234 };
    },
  });
  const importLayer = defineStep<ImportInput, { download: { storedAt: string } }>()({
    name: 'import',
    version: versions.import,
    needs: ['download'],
    async process(ctx) {
      calls.push(`import ${ctx.outputs.download.storedAt}`);
      return { table: 'layers.roads', features: 42, at: new Date('2025-06-01T00:00:00Z') };
    },
    describe: (_ctx, output) => `${output.features} features into ${output.table}`,
  });
  return { pipeline: definePipeline<ImportInput>('test.import').step(download).step(importLayer), calls };
}

/** The step cache in PostgreSQL, as geo-service and export-service use it, each with its own role and schema. */
describe('pipeline step cache (real PostgreSQL)', () => {
  let context: TestContext;
  const dataSources: DataSource[] = [];
  const input: ImportInput = { url: 'https://data.example.org/roads.zip', options: { encoding: 'utf8' } };

  const connect = async (url: string) => {
    const dataSource = new DataSource({ type: 'postgres', url, synchronize: false });
    await dataSource.initialize();
    dataSources.push(dataSource);
    return dataSource;
  };

  beforeAll(async () => {
    context = await createTestContext();
  });

  afterAll(async () => {
    await Promise.all(dataSources.map((dataSource) => dataSource.destroy()));
    await context?.dispose();
  });

  it('runs the expensive step once when the same input is submitted twice, from two service copies', async () => {
    const geo = await connect(context.databaseUrls.geo);
    // Two copies of geo-service: separate connections and runners, one shared table.
    const copyA = new PipelineRunner({ cache: new PostgresStepCache(geo, 'layers') });
    const copyB = new PipelineRunner({ cache: new PostgresStepCache(await connect(context.databaseUrls.geo), 'layers') });

    const { pipeline, calls } = importPipeline({ download: 1, import: 1 });
    const first = await copyA.run(pipeline, input);
    // Same data, keys written in another order.
    const second = await copyB.run(pipeline, { options: { encoding: 'utf8' }, url: input.url });

    expect(calls).toEqual([`download ${input.url}`, `import storage://downloads/${encodeURIComponent(input.url)}`]);
    expect(first.steps.map((step) => step.status)).toEqual(['done', 'done']);
    expect(second.steps.map((step) => step.status)).toEqual(['cached', 'cached']);
    expect(second.steps[1].description).toBe('42 features into layers.roads');
    expect(second.outputs).toEqual(first.outputs);
    expect(second.outputs.import.at).toBe('2025-06-01T00:00:00.000Z');

    const rows = await geo.query<{ step: string; version: string; output: unknown }[]>(
      'SELECT step, version, output FROM layers.step_cache WHERE fingerprint = $1 ORDER BY step',
      [first.fingerprint],
    );
    expect(rows).toEqual([
      { step: 'download', version: '1', output: { storedAt: expect.stringMatching(/^storage:\/\/downloads\//), bytes: 1234 } },
      { step: 'import', version: '1', output: { table: 'layers.roads', features: 42, at: '2025-06-01T00:00:00.000Z' } },
    ]);
  });

  it('re-runs a step whose version was bumped, and the steps that depend on it', async () => {
    const runner = new PipelineRunner({ cache: new PostgresStepCache(await connect(context.databaseUrls.geo), 'layers') });
    const input2: ImportInput = { ...input, url: 'https://data.example.org/rivers.zip' };
    await runner.run(importPipeline({ download: 1, import: 1 }).pipeline, input2);

    const importBumped = importPipeline({ download: 1, import: 2 });
    const afterImportBump = await runner.run(importBumped.pipeline, input2);
    expect(afterImportBump.steps.map((step) => [step.name, step.status])).toEqual([
      ['download', 'cached'],
      ['import', 'done'],
    ]);
    expect(importBumped.calls).toHaveLength(1);

    const downloadBumped = importPipeline({ download: 2, import: 2 });
    const afterDownloadBump = await runner.run(downloadBumped.pipeline, input2);
    expect(afterDownloadBump.steps.map((step) => step.status)).toEqual(['done', 'done']);
    expect(downloadBumped.calls).toHaveLength(2);

    const unchanged = importPipeline({ download: 2, import: 2 });
    await runner.run(unchanged.pipeline, input2);
    expect(unchanged.calls).toEqual([]);
  });

  it('does not share cached outputs between different inputs', async () => {
    const runner = new PipelineRunner({ cache: new PostgresStepCache(await connect(context.databaseUrls.geo), 'layers') });
    const { pipeline, calls } = importPipeline({ download: 1, import: 1 });
    const latin1 = await runner.run(pipeline, { ...input, url: 'https://data.example.org/parks.zip', options: { encoding: 'latin1' } });
    const utf8 = await runner.run(pipeline, { ...input, url: 'https://data.example.org/parks.zip' });

    expect(latin1.fingerprint).not.toBe(utf8.fingerprint);
    expect(utf8.steps.map((step) => step.status)).toEqual(['done', 'done']);
    expect(calls).toHaveLength(4);
  });

  it("keeps export-service's cache in its own schema, out of reach of the other services", async () => {
    const exporter = await connect(context.databaseUrls.export);
    const runner = new PipelineRunner({ cache: new PostgresStepCache(exporter, 'packages') });
    const { pipeline, calls } = importPipeline({ download: 1, import: 1 });
    await runner.run(pipeline, input);
    await runner.run(pipeline, input);
    expect(calls).toHaveLength(2);
    const [{ count }] = await exporter.query<{ count: string }[]>('SELECT count(*) FROM packages.step_cache');
    expect(Number(count)).toBe(2);

    // export-service reads layers (the layers reader role), but not geo-service's cache in that schema
    await expect(exporter.query('SELECT * FROM layers.step_cache')).rejects.toThrow(/permission denied for table step_cache/);
    const geo = await connect(context.databaseUrls.geo);
    await expect(geo.query('SELECT * FROM packages.step_cache')).rejects.toThrow(/permission denied for schema packages/);
    const gateway = await connect(context.databaseUrls.gateway);
    await expect(gateway.query('SELECT * FROM layers.step_cache')).rejects.toThrow(/permission denied for table step_cache/);
  });
});
