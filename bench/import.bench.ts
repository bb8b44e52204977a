/**
 * `npm run bench:import`: a generated 500,000-point GeoJSON (5 attributes) through the whole geopreview job —
 * HTTP download, open, import into PostGIS with COPY, clean, index, describe, atomic swap — on a spawned
 * geo-service (warmed up by a small import first, as a running service is), timed from publishing `geo.preview` to `job.succeeded`; then the same file with the `ogr2ogr`
 * command line into the same PostGIS (same role, same schema). Prints features/s of both, the ratio, and the
 * geo-service's peak RSS (VmHWM from /proc/<pid>/status). BENCH_EXISTING_LAYERS=10000 first fills the layers schema
 * with that many (empty) layer tables, as in a portal's PostGIS.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { pointsFile, serveFile } from '../libs/testing/src/index.js';
import { benchEnv, freshDatabase, freshVhost, isMain, startBenchService, withDatabase } from './support/bench-env.js';
import { jobRunner, peakRssMb } from './support/job-runner.js';
import { median } from './support/stats.js';
import { libpqConnectionString } from '#shared';

/** What the bench reads of a geopreview's result. */
interface PreviewResult {
  featureCount: number;
  steps: { name: string; status: string; ms: number }[];
}

const FEATURES = Number(process.env.BENCH_FEATURES ?? 500_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Empty layer tables made in the layers schema first, as a portal's PostGIS holds (e.g. 10000); none by default. */
const EXISTING_LAYERS = Number(process.env.BENCH_EXISTING_LAYERS ?? 0);
const env = process.env;
if (!env.GEOJOBS_AMQP_URL || !env.GEOJOBS_RABBITMQ_MGMT_URL || !env.GEOJOBS_ADMIN_DATABASE_URL || !env.GEOJOBS_GEO_DATABASE_URL) {
  throw new Error('run through npm run bench:import (needs the infra variables)');
}
const DATA = join(env.GEOJOBS_DATA_DIR ?? join(process.cwd(), '.data', 'bench'), 'import');

/**
 * One geopreview job through a fresh geo-service, timed from publishing `geo.preview` to `job.succeeded`. A small
 * import runs first, untimed: a service runs job after job, so its code is compiled and its connections are open
 * when a job arrives (ogr2ogr, a C program, has nothing to warm).
 */
export async function throughGeoService(
  fileUrl: string,
  warmUpUrl: string,
  amqpUrl: string,
  geoUrl: string,
): Promise<{ ms: number; rssMb: number; features: number; steps: string }> {
  const geo = await startBenchService('geo-service', 'GEOJOBS_GEO_PORT', {
    GEOJOBS_AMQP_URL: amqpUrl,
    GEOJOBS_GEO_DATABASE_URL: geoUrl,
    GEOJOBS_ALLOWED_HOSTS: '127.0.0.1',
  });
  try {
    const jobs = await jobRunner(amqpUrl);
    const preview = (url: string) => jobs.run<PreviewResult, 'geo.preview'>('geo.preview', { datasetId: 'bench', resourceId: `bench-${randomUUID()}`, url });
    await preview(warmUpUrl);
    const { ms, result } = await preview(fileUrl);
    const rssMb = peakRssMb(geo.process.pid!);
    await jobs.close();
    const steps = result.steps
      .filter((step) => step.status === 'done')
      .map((step) => `${step.name} ${step.ms} ms`)
      .join(', ');
    return { ms, rssMb, features: result.featureCount, steps };
  } finally {
    await geo.stop();
  }
}

export async function throughOgr2ogr(file: string, geoUrl: string, table: string): Promise<number> {
  const start = performance.now();
  await promisify(execFile)('ogr2ogr', ['-f', 'PostgreSQL', `PG:${libpqConnectionString(geoUrl)}`, file, '-nln', table, '-lco', 'SCHEMA=layers']);
  return performance.now() - start;
}

async function main(): Promise<void> {
  const { path: file, bytes } = await pointsFile(DATA, FEATURES);
  const server = await serveFile(file, bytes);
  const fileUrl = server.url;
  const small = await pointsFile(DATA, 20_000);
  const warmUpServer = await serveFile(small.path, small.bytes);
  const database = await freshDatabase('geojobs_bench_import');
  const geoUrl = withDatabase(benchEnv('GEOJOBS_GEO_DATABASE_URL'), database.name);
  const vhost = await freshVhost('geojobs_bench_import');
  if (EXISTING_LAYERS > 0) {
    process.stdout.write(`making ${EXISTING_LAYERS} layer tables in the layers schema …\n`);
    const admin = new pg.Client({ connectionString: withDatabase(benchEnv('GEOJOBS_ADMIN_DATABASE_URL'), database.name) });
    await admin.connect();
    await admin.query(`DO $$ BEGIN FOR i IN 1..${EXISTING_LAYERS} LOOP
      EXECUTE format('CREATE TABLE layers.pre_existing_%s (ogc_fid serial PRIMARY KEY, wkb_geometry geometry(Point, 4326), name text)', i);
      IF i % 500 = 0 THEN COMMIT; END IF; -- within the shared lock table
    END LOOP; END $$`);
    await admin.end();
  }

  const service: { ms: number; rssMb: number; steps: string }[] = [];
  const cli: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Each side goes first every other round, so neither always runs in the other's wake (WAL, checkpoints, caches).
      const cliFirst = round % 2 === 1;
      if (cliFirst) cli.push(await throughOgr2ogr(file, geoUrl, `ogr2ogr_${round}`));
      const run = await throughGeoService(fileUrl, warmUpServer.url, vhost.url, geoUrl);
      if (run.features !== FEATURES) throw new Error(`imported ${run.features} features, expected ${FEATURES}`);
      service.push(run);
      if (!cliFirst) cli.push(await throughOgr2ogr(file, geoUrl, `ogr2ogr_${round}`));
    }
  } finally {
    server.close();
    warmUpServer.close();
    await vhost.remove();
    await database.remove();
  }
  const serviceMs = median(service.map((run) => run.ms));
  const cliMs = median(cli);
  const rate = (ms: number) => Math.round((FEATURES / ms) * 1000);
  const peak = Math.max(...service.map((run) => run.rssMb));
  console.log(
    `import benchmark: ${FEATURES} points, 5 attributes, GeoJSON of ${(bytes / 1e6).toFixed(1)} MB, median of ${ROUNDS} rounds; ${EXISTING_LAYERS} other layers in the schema`,
  );
  console.log(
    `  geo-service, whole job (HTTP download, import, clean, index, describe)   ${String(rate(serviceMs)).padStart(7)} features/s   (${(serviceMs / 1000).toFixed(2)} s)`,
  );
  console.log(
    `  ogr2ogr -f PostgreSQL PG:… file.geojson (same PostGIS, role, schema)      ${String(rate(cliMs)).padStart(7)} features/s   (${(cliMs / 1000).toFixed(2)} s)`,
  );
  console.log(`  ratio geo-service / ogr2ogr   ${(cliMs / serviceMs).toFixed(2)}×   (target ≥ 1.00×)`);
  console.log(`  geo-service peak RSS (VmHWM)  ${peak} MB   (target < 500 MB)`);
  // The machine may be shared: each round's own ratio (both sides measured one right after the other) and the load show
  // how much of a difference is noise.
  console.log(
    `  per round: ${service.map((run, round) => `${(run.ms / 1000).toFixed(2)} s vs ${(cli[round] / 1000).toFixed(2)} s (${(cli[round] / run.ms).toFixed(2)}×)`).join(', ')}`,
  );
  console.log(
    `  geo-service's steps, last round (the rest of the job's time is the broker hops, notify and the process's own work): ${service[service.length - 1].steps}`,
  );
  console.log(
    `  load average at the end: ${loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')} on this machine`,
  );
}

if (isMain(import.meta.url)) await main();
