export interface WaitOptions {
  /** How long to keep asking before failing; 20 s unless said. */
  timeoutMs?: number;
  /** The pause between one probe's answer and the next probe; 20 ms unless said. */
  intervalMs?: number;
}

type Nothing = undefined | null | false;

/**
 * Asks `probe` until it answers with something (not undefined, null or false) and returns that. A probe may read
 * what a local server has recorded, or itself wait for a server or a query: one probe runs at a time. A probe that
 * throws is asked again, as one that answered nothing: a server restarting or a broker coming back fails a request
 * or two on the way. The timeout error names the wait by `what` (a function is asked then, so it can say how far
 * things got) and carries the last probe's error, if it failed.
 */
export async function waitFor<T>(probe: () => T | Nothing | PromiseLike<T | Nothing>, what: string | (() => string), options: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 20_000, intervalMs = 20 } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const failing = lastError === undefined ? '' : ` (the last probe failed: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}${failing}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
