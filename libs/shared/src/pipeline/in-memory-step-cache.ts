import { canonicalJson } from './fingerprint.js';
import type { CachedStepOutput, StepCache, StepCacheKey } from './step-cache.js';

/**
 * A step cache in process memory, for unit tests of pipeline logic only. Services use `PostgresStepCache`:
 * state in process memory would break scale-out and is lost on restart. Not exported from the package index.
 */
export class InMemoryStepCache implements StepCache {
  readonly entries = new Map<string, CachedStepOutput>();

  async get(key: StepCacheKey): Promise<CachedStepOutput | undefined> {
    const entry = this.entries.get(canonicalJson(key));
    // A copy, as a database would return: callers must not be able to change what is cached.
    return entry && { output: structuredClone(entry.output), createdAt: entry.createdAt };
  }

  async set(key: StepCacheKey, output: unknown): Promise<void> {
    this.entries.set(canonicalJson(key), { output: structuredClone(output), createdAt: new Date() });
  }
}
