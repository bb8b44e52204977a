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
 * throws ends the wait with its error, as a failed assertion would: it is not waited out. `what` names the wait in
 * the timeout error; as a function it is asked then, so it can say how far things got.
 */
export async function waitFor<T>(probe: () => T | Nothing | PromiseLike<T | Nothing>, what: string | (() => string), options: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 20_000, intervalMs = 20 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
