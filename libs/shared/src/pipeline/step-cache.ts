/** Where a step's cached output is filed: the run's input, the step and its version, and what it was computed from. */
export interface StepCacheKey {
  /** Fingerprint of the run's input (and of its sample size, in sample mode). */
  fingerprint: string;
  step: string;
  version: string;
  /** Digest of the cache keys and outputs of the steps this one needs: every change upstream files it elsewhere. */
  dependencyKey: string;
}

export interface CachedStepOutput {
  /** The step's output as JSON data (what `JSON.parse(JSON.stringify(output))` gives). */
  output: unknown;
  createdAt: Date;
}

/**
 * Storage of step outputs between runs. Implementations: `PostgresStepCache` (services; a `step_cache` table in
 * the service's own schema) and, for unit tests of pure logic only, `InMemoryStepCache`.
 */
export interface StepCache {
  get(key: StepCacheKey): Promise<CachedStepOutput | undefined>;
  /** Stores or replaces the output filed under `key`. */
  set(key: StepCacheKey, output: unknown): Promise<void>;
}
