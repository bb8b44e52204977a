import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Removes the run's temporary folder and stops what the set-up started, so no process outlives the run
 * (GEOJOBS_TEST_KEEP_INFRA=1 keeps the servers for the next).
 */
export default async function globalTeardown(): Promise<void> {
  const infra = (globalThis as { geojobsTestInfra?: { root: string; env: Record<string, string>; startedInfra: boolean; tmpdir: string } }).geojobsTestInfra;
  if (infra) rmSync(infra.tmpdir, { recursive: true, force: true });
  if (!infra?.startedInfra || process.env.GEOJOBS_TEST_KEEP_INFRA === '1') return;
  execFileSync('bash', [join(infra.root, 'scripts', 'infra.sh'), 'down'], { env: { ...process.env, ...infra.env }, stdio: 'inherit' });
}
