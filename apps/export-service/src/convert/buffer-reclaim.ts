import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How often a running convert has V8 sweep its young generation. */
const RECLAIM_EVERY_MS = 250;

// V8 makes its `gc` function only in contexts made after this flag is set: one made here hands it over.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as (options: { type: 'minor' }) => void;

/**
 * Runs `work`, reclaiming meanwhile the memory of the Buffers it streams through (the download, the CSV slices GDAL
 * writes, the ZIP's bytes). V8 frees a Buffer's bytes only once a collection finds it dead, and starts one for such
 * memory outside its heap only when 64 MB more of it is held than after the last: bytes streamed with little
 * JavaScript allocation beside them piled up 64 MB of dead Buffers in bench:convert, a fifth of export-service's
 * memory budget. A minor collection (the young generation only, well under a millisecond here) every
 * RECLAIM_EVERY_MS keeps that pile to what streams in meanwhile.
 */
export async function reclaimingBuffers<T>(work: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => collect({ type: 'minor' }), RECLAIM_EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
