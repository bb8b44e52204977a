/**
 * The one backoff of geojobs (as bullmq keeps its in `backoffs.ts`): every retry that waits in process — outbound
 * HTTP, analytics batches, callbacks — takes its delay from here, so the curve and its jitter are tuned in one place.
 */
export interface BackoffPolicy {
  /** Delay after the first failed try. */
  baseMs: number;
  /** Longest delay, Retry-After included. */
  maxMs: number;
}

/**
 * Delay before try `attempt + 1` after `attempt` failed tries: exponential, capped, with "equal jitter"
 * (half fixed, half random) so that many senders recovering together do not hit the destination in step.
 * A server's Retry-After is honoured when it asks for longer.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, retryAfterMs = 0, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exponential / 2 + (exponential / 2) * random();
  return Math.round(Math.max(jittered, Math.min(retryAfterMs, policy.maxMs)));
}

/** Waits, or stops waiting at once when the signal aborts (the service is stopping, the job was cancelled). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
