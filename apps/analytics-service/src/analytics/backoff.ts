export interface BackoffPolicy {
  baseMs: number;
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

/** Retry-After as seconds or an HTTP date, in milliseconds; 0 when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now: number = Date.now()): number {
  if (!header) return 0;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? 0 : Math.max(0, date - now);
}

/** Waits, or stops waiting at once when the signal aborts (the service is stopping). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
