import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs `work` with a fresh folder under `root` (the system temp folder by default; created if missing) and removes
 * the folder afterwards, whether `work` succeeds, throws or is abandoned on cancellation.
 */
export async function withScratchDir<T>(work: (dir: string) => Promise<T>, root: string = tmpdir()): Promise<T> {
  await mkdir(root, { recursive: true });
  const dir = await mkdtemp(join(root, 'geojobs-pipeline-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
