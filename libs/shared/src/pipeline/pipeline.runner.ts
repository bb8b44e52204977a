import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson, fingerprint, sha256 } from './fingerprint.js';
import type { Pipeline } from './pipeline.js';
import { PipelineAbortedError, PipelineStepError } from './pipeline.errors.js';
import { withScratchDir } from './scratch-dir.js';
import type { StepCache, StepCacheKey } from './step-cache.js';
import type { ErasedStep, StepContext, StepOutputs, StepVersion } from './step.js';

export type StepStatus = 'done' | 'cached' | 'not-applicable';

/** What became of one step in a run: goes into the job result and the UI. */
export interface StepReport {
  name: string;
  version: StepVersion;
  status: StepStatus;
  /** Wall-clock time spent on the step, cache look-up included. */
  ms: number;
  /** The step's own `describe` of its output; absent for a step that did not apply or has no `describe`. */
  description?: string;
}

export interface PipelineResult<Outputs> {
  pipeline: string;
  /** Fingerprint of the input (SHA-256 of its canonical JSON), or of its `identity` when the run gave one. */
  fingerprint: string;
  /** Set in sample mode: the result covers only the first N records of the input. */
  sampled?: number;
  steps: StepReport[];
  /** Every step's output by step name; a step that did not apply has none. */
  outputs: Outputs;
}

/** Progress of a run: `current` of `total` steps finished, and what is going on now. */
export interface PipelineProgress {
  current: number;
  total: number;
  message: string;
}

export interface PipelineRunnerOptions {
  cache: StepCache;
  /** Where run scratch folders are made; the system temp folder by default. */
  scratchRoot?: string;
}

export interface PipelineRunOptions {
  /** Cancels the run: between steps, and during a step (which should pass it on to its own work). */
  signal?: AbortSignal;
  /** Called, and awaited, at the start and end of every step; wire it to the job's `JobContext.progress`. */
  onProgress?: (progress: PipelineProgress) => void | Promise<void>;
  /** Sample mode: steps work on the first N records (`ctx.sample`) and the result says `sampled: N`. */
  sample?: number;
  /**
   * What identifies the input for the cache, when the input carries more than what steps' outputs depend on
   * (the URL a file came from, when every step after the download is keyed by the file's content, through the
   * download's output): the fingerprint is taken of this instead of the whole input. Steps that read the rest
   * must always run (`isNeeded`).
   */
  identity?: unknown;
}

/** How a step's output was obtained, as the steps that need it are keyed by. */
interface Lineage {
  key: string;
  /** Digest of the output; null when the step did not apply. */
  output: string | null;
}

/**
 * Runs a pipeline's steps in order. A step's output is cached under the input fingerprint, the step's name and
 * version, and a digest of the keys and outputs of the steps it needs: running the same input again reuses
 * what is still valid, and a changed version re-runs that step and, through the digest, every step that
 * depends on it, directly or not.
 */
export class PipelineRunner {
  constructor(private readonly options: PipelineRunnerOptions) {}

  async run<Input, Outputs extends StepOutputs>(
    pipeline: Pipeline<Input, Outputs>,
    input: Input,
    options: PipelineRunOptions = {},
  ): Promise<PipelineResult<Outputs>> {
    const { sample, onProgress } = options;
    if (sample !== undefined && !(Number.isInteger(sample) && sample > 0)) {
      throw new RangeError(`sample must be a positive integer, got ${sample}`);
    }
    const signal = options.signal ?? new AbortController().signal;
    const inputFingerprint = fingerprint(options.identity ?? input);
    // A sampled run computes other outputs than a full run of the same input: they must not share cache entries.
    const cacheFingerprint = sample === undefined ? inputFingerprint : sha256(`${inputFingerprint}:sample:${sample}`);
    const total = pipeline.steps.length;
    const report = async (current: number, message: string) => {
      await onProgress?.({ current, total, message });
    };

    return withScratchDir(async (runDir) => {
      const workDir = join(runDir, 'work');
      await mkdir(workDir);
      const outputs: Record<string, unknown> = {};
      const lineage = new Map<string, Lineage>();
      const steps: StepReport[] = [];

      for (const [index, step] of pipeline.steps.entries()) {
        if (signal.aborted) throw new PipelineAbortedError(step.name, { cause: signal.reason });
        await report(index, step.name);
        const started = performance.now();
        const scratchDir = join(runDir, `${index + 1}-${step.name.replace(/[^\w.-]/g, '_')}`);
        await mkdir(scratchDir);
        const ctx: StepContext<Input, never> = {
          input,
          // Only what the step declared: a forgotten `needs` entry shows up at once, not as a stale cache hit.
          outputs: Object.fromEntries(step.needs.map((need) => [need, outputs[need]])) as never,
          signal,
          scratchDir,
          workDir,
          sample,
          progress: (message) => report(index, `${step.name}: ${message}`),
        };
        const key: StepCacheKey = {
          fingerprint: cacheFingerprint,
          step: step.name,
          version: String(step.version),
          dependencyKey: sha256(canonicalJson([...step.needs].sort().map((need) => [need, lineage.get(need)]))),
        };
        const guard = <T>(work: () => T | Promise<T>) => settleUnlessAborted(work, signal, step.name);

        if (step.isApplicable && !(await guard(() => step.isApplicable!(ctx)))) {
          lineage.set(step.name, { key: sha256(canonicalJson(key)), output: null });
          steps.push({ name: step.name, version: step.version, status: 'not-applicable', ms: elapsed(started) });
          await report(index + 1, `${step.name}: not applicable`);
          continue;
        }

        const { output, status } = await this.obtain(step, ctx, key, guard);
        outputs[step.name] = output;
        lineage.set(step.name, { key: sha256(canonicalJson(key)), output: sha256(canonicalJson(output)) });
        const description = step.describe ? await guard(() => step.describe!(ctx, output as never)) : undefined;
        steps.push({ name: step.name, version: step.version, status, ms: elapsed(started), ...(description === undefined ? {} : { description }) });
        await report(index + 1, `${step.name}: ${description ?? status}`);
      }

      return {
        pipeline: pipeline.name,
        fingerprint: inputFingerprint,
        ...(sample === undefined ? {} : { sampled: sample }),
        steps,
        outputs: outputs as Outputs,
      };
    }, this.options.scratchRoot);
  }

  /** The step's cached output if there is one and the step accepts it, else a fresh one (then cached). */
  private async obtain<Input>(
    step: ErasedStep<Input>,
    ctx: StepContext<Input, never>,
    key: StepCacheKey,
    guard: <T>(work: () => T | Promise<T>) => Promise<T>,
  ): Promise<{ output: unknown; status: StepStatus }> {
    const cached = await this.options.cache.get(key);
    if (cached && !(step.isNeeded && (await guard(() => step.isNeeded!(ctx, cached.output as never))))) {
      return { output: cached.output, status: 'cached' };
    }
    const output = await guard(async () => asJsonData(await step.process(ctx), step.name));
    // A step that ignored the signal and finished anyway: the run is cancelled all the same, and nothing is cached.
    if (ctx.signal.aborted) throw new PipelineAbortedError(step.name, { cause: ctx.signal.reason });
    await this.options.cache.set(key, output);
    return { output, status: 'done' };
  }
}

const elapsed = (started: number): number => Math.round(performance.now() - started);

/**
 * The output as it will come back from the cache (a JSON round trip), so that later steps see the same data
 * whether it was just computed or cached: a Date becomes its ISO string, undefined becomes null, either way.
 */
function asJsonData(output: unknown, step: string): unknown {
  let json: string | undefined;
  try {
    json = JSON.stringify(output);
  } catch (error) {
    throw new Error(`the output of step "${step}" is not JSON-serialisable: ${(error as Error).message}`, { cause: error });
  }
  return json === undefined ? null : (JSON.parse(json) as unknown);
}

/**
 * Runs a step's code, turning its failure into a PipelineStepError, and cancellation into a
 * PipelineAbortedError as soon as the signal fires, even if the step does not listen to it (the step is then
 * abandoned: its promise is left to settle on its own, its scratch folder removed under it).
 */
async function settleUnlessAborted<T>(work: () => T | Promise<T>, signal: AbortSignal, step: string): Promise<T> {
  if (signal.aborted) throw new PipelineAbortedError(step, { cause: signal.reason });
  const running = new Promise<T>((resolve) => resolve(work()));
  running.catch(() => undefined); // An abandoned step may still reject: that must not be an unhandled rejection.
  let onAbort = () => {};
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(new PipelineAbortedError(step, { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    return await Promise.race([running, aborted]);
  } catch (error) {
    if (error instanceof PipelineAbortedError || error instanceof PipelineStepError) throw error;
    if (signal.aborted) throw new PipelineAbortedError(step, { cause: error });
    throw new PipelineStepError(step, error);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
