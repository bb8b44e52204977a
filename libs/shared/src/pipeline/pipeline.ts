import type { StepData } from './json-data.js';
import type { ErasedStep, NoNeeds, StepContext, StepOutputs } from './step.js';

/**
 * A step's output as later steps see it: JSON data (see StepData), and possibly undefined when the step has an
 * `isApplicable` test.
 */
type OutputSeenLater<S> = S extends { process(ctx: never): Promise<infer Output> }
  ? S extends { isApplicable?: undefined }
    ? StepData<Output>
    : StepData<Output> | undefined
  : never;

/** The needs of a step (read from its `process` context, where they appear only as an input). */
type NeedsOf<S> = S extends { process(ctx: StepContext<never, infer Needs>): unknown } ? Needs : never;

/** Keys a step needs that are missing from the earlier outputs, or produced with another type. */
type UnmetNeeds<Needs, Outputs> = {
  [K in keyof Needs]: K extends keyof Outputs ? ([Outputs[K]] extends [Needs[K]] ? never : K) : K;
}[keyof Needs] &
  string;

/** Rejects, at compile time, a step whose needs are not produced by the steps before it. */
type NeedsMet<S extends { name: string }, Outputs> = [UnmetNeeds<NeedsOf<S>, Outputs>] extends [never]
  ? unknown
  : { needsError: `step "${S['name']}" needs what no earlier step produces (or with another type): ${UnmetNeeds<NeedsOf<S>, Outputs>}` };

/** An ordered list of steps on `Input`; `Outputs` maps each step name to what it produces. */
export class Pipeline<Input, Outputs extends StepOutputs> {
  /** Phantom: carries the accumulated output types (never set at run time). */
  declare readonly outputsType: Outputs;

  constructor(
    readonly name: string,
    readonly steps: readonly ErasedStep<Input>[] = [],
  ) {}

  /**
   * Appends a step. Its `needs` must be produced by the steps before it, with compatible types; the compiler
   * rejects it otherwise, and the run-time check below covers callers that bypass the types.
   */
  step<S extends ErasedStep<Input>>(step: S & NeedsMet<S, Outputs>): Pipeline<Input, Outputs & { [K in S['name']]: OutputSeenLater<S> }> {
    const earlier = new Set(this.steps.map((s) => s.name));
    if (earlier.has(step.name)) throw new Error(`pipeline ${this.name}: two steps are named "${step.name}"`);
    const unmet = step.needs.filter((need) => !earlier.has(need));
    if (unmet.length > 0) throw new Error(`pipeline ${this.name}: step "${step.name}" needs ${unmet.join(', ')}, not produced by an earlier step`);
    return new Pipeline(this.name, [...this.steps, step]);
  }
}

/**
 * Starts a typed pipeline: `definePipeline<GeoPreviewInput>('geo.preview').step(download).step(unpack)…`.
 * Each step's `ctx.outputs` must be satisfied by the outputs of the steps before it.
 */
export const definePipeline = <Input>(name: string): Pipeline<Input, NoNeeds> => new Pipeline<Input, NoNeeds>(name);

/** The outputs of every step of a pipeline, by step name. */
export type PipelineOutputs<P> = P extends Pipeline<never, infer Outputs> ? Outputs : never;
