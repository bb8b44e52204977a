import type { StepData } from './json-data.js';

/**
 * A pipeline step, as CoVE has them: it says whether it applies to this input, whether its cached result is
 * still good, does its work, and describes what it found. Steps name the outputs of earlier steps they read
 * (`needs`): the pipeline builder checks at compile time that those are produced earlier, and the runner uses
 * the list to invalidate a step's cache when a step it depends on changes.
 */

/** Outputs of earlier steps, by step name (an object type; interfaces welcome). */
export type StepOutputs = object;

/** A step version: bump it whenever the step's output for the same input may change. */
export type StepVersion = number | string;

export interface StepContext<Input, Needs extends StepOutputs> {
  /** The pipeline input, exactly as submitted (plain JSON). */
  readonly input: Input;
  /** Outputs of the earlier steps this step declared in `needs`, and only those. */
  readonly outputs: Readonly<Needs>;
  /** Aborted when the job is cancelled: pass it to fetch, streams and child work, and stop when it fires. */
  readonly signal: AbortSignal;
  /**
   * An empty folder of this step's own, removed when the run ends however it ends. Anything a later step or
   * a later run must see belongs in durable storage, with its path in the output: scratch files do not survive
   * the run and a cached step never recreates them.
   */
  readonly scratchDir: string;
  /**
   * A folder shared by every step of this run, removed when the run ends: where a step leaves files for the
   * steps after it (a download for the unpack step). A step that leaves files here must always run (its
   * `isNeeded` says so), since a cached output would point at files this run never made; its output names them
   * by their place in this folder, so that the same content gives the same output and later steps stay cached.
   */
  readonly workDir: string;
  /** In sample mode, how many records to take from a large input (the first N); undefined for a full run. */
  readonly sample: number | undefined;
  /** Progress within the step, reported as the pipeline's progress message. */
  progress(message: string): Promise<void>;
}

export interface Step<Name extends string, Input, Needs extends StepOutputs, Output> {
  readonly name: Name;
  readonly version: StepVersion;
  /** The earlier steps whose outputs this step reads: every key of `Needs`, no more. */
  readonly needs: readonly (keyof Needs & string)[];
  /** False when the step has nothing to do for this input (e.g. unpack on a file that is no archive). Default true. */
  isApplicable?(ctx: StepContext<Input, Needs>): boolean | Promise<boolean>;
  /**
   * Given the cached output of an earlier run, whether the step must run again anyway (say, the file the
   * output points to is gone). Default false: a cached output is good while the input, the step's version and
   * the steps it needs are unchanged.
   */
  isNeeded?(ctx: StepContext<Input, Needs>, cached: StepData<Output>): boolean | Promise<boolean>;
  /**
   * Does the work. The output must be JSON-serialisable: it is cached as JSON, and `describe`, `isNeeded`
   * and later steps receive it after a JSON round trip (typed `StepData<Output>`), whether it was just
   * computed or read from the cache. Files belong in durable storage, with their paths in the output.
   */
  process(ctx: StepContext<Input, Needs>): Promise<Output>;
  /** What the step found, in a line, for the job result and the UI (e.g. "3 layers, 1,204 features"). */
  describe?(ctx: StepContext<Input, Needs>, output: StepData<Output>): string;
}

/**
 * A step on `Input` with its needs and output types erased, as a pipeline holds it. Every concrete step is
 * assignable to it (`never` accepts any needs and output); the runner, which checked the types when the
 * pipeline was built, passes the values in with a cast.
 */
export interface ErasedStep<Input> {
  readonly name: string;
  readonly version: StepVersion;
  readonly needs: readonly string[];
  isApplicable?(ctx: StepContext<Input, never>): boolean | Promise<boolean>;
  isNeeded?(ctx: StepContext<Input, never>, cached: never): boolean | Promise<boolean>;
  process(ctx: StepContext<Input, never>): Promise<unknown>;
  describe?(ctx: StepContext<Input, never>, output: never): string;
}

/** What a step needs when it reads no earlier output. */
export type NoNeeds = Record<never, never>;

type MissingNeeds<Needs, Listed> = Exclude<keyof Needs, Listed> & string;

/** Rejects, with a readable message, a step whose `needs` list leaves out a key of its `Needs` type. */
type ListsAllNeeds<Needs, Listed extends readonly unknown[]> = [MissingNeeds<Needs, Listed[number]>] extends [never]
  ? unknown
  : { needsError: `needs must also list: ${MissingNeeds<Needs, Listed[number]>}` };

type Applicability<Input, Needs extends StepOutputs> = NonNullable<Step<string, Input, Needs, unknown>['isApplicable']>;

/** A step that always applies: later steps see its output as `Output`. */
export type RequiredStep<Name extends string, Input, Needs extends StepOutputs, Output> = Step<Name, Input, Needs, Output> & {
  isApplicable?: undefined;
};

/** A step that may find it does not apply: later steps see its output as `Output | undefined`. */
export type OptionalStep<Name extends string, Input, Needs extends StepOutputs, Output> = Step<Name, Input, Needs, Output> & {
  isApplicable: Applicability<Input, Needs>;
};

/**
 * Defines a step that always applies. Curried so that `Input` and `Needs` are written once and the name
 * and output type are inferred:
 *
 *   export const unpack = defineStep<GeoPreviewInput, { download: Downloaded }>()({
 *     name: 'unpack', version: 1, needs: ['download'],
 *     async process(ctx) { ... return { files }; },
 *   });
 */
export function defineStep<Input, Needs extends StepOutputs = NoNeeds>() {
  return <const Name extends string, Output, const Listed extends readonly (keyof Needs & string)[]>(
    step: Step<Name, Input, Needs, Output> & { needs: Listed; isApplicable?: undefined } & ListsAllNeeds<Needs, Listed>,
  ): RequiredStep<Name, Input, Needs, Output> => step;
}

/** Defines a step with an `isApplicable` test; later steps must accept its output being undefined. */
export function defineOptionalStep<Input, Needs extends StepOutputs = NoNeeds>() {
  return <const Name extends string, Output, const Listed extends readonly (keyof Needs & string)[]>(
    step: Step<Name, Input, Needs, Output> & { needs: Listed; isApplicable: Applicability<Input, Needs> } & ListsAllNeeds<Needs, Listed>,
  ): OptionalStep<Name, Input, Needs, Output> => step;
}
