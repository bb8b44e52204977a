/** How often a stop is sent again while the work it should end has not ended (see `stopOnAbort`). */
const STOP_REPEAT_MS = 200;

/**
 * Waits for `work`; when the signal fires first, runs `stop` at once and again every STOP_REPEAT_MS until the work
 * has settled, since one stop can miss (a backend still connecting, a cancel landing between two statements).
 * Returns only once no stop is in flight any more, so none reaches a connection after it went back to the pool.
 * Work that fails after an abort rejects with the abort reason.
 */
export async function stopOnAbort<T>(work: Promise<T>, signal: AbortSignal | undefined, stop: () => Promise<unknown>): Promise<T> {
  if (signal === undefined) return work;
  let stopping: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    stopping = stopping.then(stop).catch(() => undefined);
    timer = setTimeout(fire, STOP_REPEAT_MS);
  };
  if (signal.aborted) fire();
  else signal.addEventListener('abort', fire, { once: true });
  try {
    return await work;
  } catch (error) {
    signal.throwIfAborted();
    throw error;
  } finally {
    signal.removeEventListener('abort', fire);
    clearTimeout(timer);
    await stopping;
  }
}
