import { definePipeline } from './pipeline.js';
import { defineOptionalStep, defineStep, type ErasedStep } from './step.js';

interface Input {
  url: string;
}

const download = defineStep<Input>()({ name: 'download', version: 1, needs: [], process: async () => ({ path: '/x' }) });
const unpack = defineOptionalStep<Input, { download: { path: string } }>()({
  name: 'unpack',
  version: 1,
  needs: ['download'],
  isApplicable: () => true,
  process: async (ctx) => [ctx.outputs.download.path],
});
const open = defineStep<Input, { unpack: string[] | undefined }>()({
  name: 'open',
  version: 1,
  needs: ['unpack'],
  process: async (ctx) => ctx.outputs.unpack?.length ?? 0,
});
const openStrict = defineStep<Input, { unpack: string[] }>()({
  name: 'openStrict',
  version: 1,
  needs: ['unpack'],
  process: async (ctx) => ctx.outputs.unpack.length,
});

describe('definePipeline', () => {
  it('accumulates the outputs of its steps in order', () => {
    const pipeline = definePipeline<Input>('test').step(download).step(unpack).step(open);
    expect(pipeline.steps.map((step) => step.name)).toEqual(['download', 'unpack', 'open']);
  });

  it('is rejected by the compiler, and at run time, when a step needs what no earlier step produces', () => {
    // @ts-expect-error unpack needs download, which comes later
    expect(() => definePipeline<Input>('test').step(unpack)).toThrow(/step "unpack" needs download, not produced by an earlier step/);
    // @ts-expect-error open needs unpack, which is missing
    expect(() => definePipeline<Input>('test').step(download).step(open)).toThrow(/needs unpack/);
    // @ts-expect-error unpack may not apply, so its output may be undefined: openStrict does not allow for that
    definePipeline<Input>('test').step(download).step(unpack).step(openStrict);
  });

  it('refuses two steps of the same name', () => {
    expect(() => definePipeline<Input>('test').step(download).step(download)).toThrow(/two steps are named "download"/);
  });
});

describe('defineStep', () => {
  it('types what describe, isNeeded and later steps read as the output after a JSON round trip', () => {
    const dated = defineStep<Input>()({
      name: 'dated',
      version: 1,
      needs: [],
      process: async () => ({ at: new Date(0), note: undefined as string | undefined, list: [1, undefined] }),
      describe: (_ctx, output) => output.at.toUpperCase(), // a string, no longer a Date
      isNeeded: (_ctx, cached) => cached.list[1] === null,
    });
    const reader = defineStep<Input, { dated: { at: string; note?: string; list: (number | null)[] } }>()({
      name: 'reader',
      version: 1,
      needs: ['dated'],
      process: async (ctx) => ctx.outputs.dated.at,
    });
    const expectsDate = defineStep<Input, { dated: { at: Date } }>()({
      name: 'expectsDate',
      version: 1,
      needs: ['dated'],
      process: async (ctx) => ctx.outputs.dated.at.getTime(),
    });
    definePipeline<Input>('test').step(dated).step(reader);
    // @ts-expect-error the cached output holds a string where a Date was returned
    definePipeline<Input>('test').step(dated).step(expectsDate);
  });

  it('is rejected by the compiler when needs leaves out what the step reads', () => {
    // @ts-expect-error needs must list unpack too
    const step = defineStep<Input, { download: { path: string }; unpack: string[] }>()({
      name: 'x',
      version: 1,
      needs: ['download'],
      process: async () => 1,
    });
    const erased: ErasedStep<Input> = step;
    expect(erased.needs).toEqual(['download']);
  });
});
