import { infra, readHarness } from './infra.js';

/** Stops what the set-up started, so no process outlives the run (GEOJOBS_TEST_KEEP_INFRA=1 keeps it for the next). */
export default async function globalTeardown(): Promise<void> {
  if (readHarness().startedInfra && process.env.GEOJOBS_TEST_KEEP_INFRA !== '1') infra('down', undefined, true);
}
