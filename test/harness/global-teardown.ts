import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Stops what the set-up started, so no process outlives the run (GEOJOBS_TEST_KEEP_INFRA=1 keeps it for the next). */
export default async function globalTeardown(): Promise<void> {
  const infra = (globalThis as { geojobsTestInfra?: { root: string; env: Record<string, string>; startedInfra: boolean } }).geojobsTestInfra;
  if (!infra?.startedInfra || process.env.GEOJOBS_TEST_KEEP_INFRA === '1') return;
  execFileSync('bash', [join(infra.root, 'scripts', 'infra.sh'), 'down'], { env: { ...process.env, ...infra.env }, stdio: 'inherit' });
}
