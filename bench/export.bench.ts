/**
 * `npm run bench:export`: a generated point layer (5 attributes) in the layers schema, exported by a spawned
 * export-service (the whole `export.layers` job: command published, `job.succeeded` received) and by the command line:
 *   - CSV (WKT) in a ZIP: geojobs vs `ogr2ogr -f CSV -lco GEOMETRY=AS_WKT` from the same table, then `zip`;
 *   - the full bundle (CSV, Shapefile, GeoPackage, GeoJSON): geojobs vs the four `ogr2ogr` commands, then `zip`.
 * Rounds interleave both sides; prints medians and ratios, and export-service's peak RSS (VmHWM) for the full bundle
 * at 100k, 500k and 1M features (a fresh service each). BENCH_FEATURES (500000), BENCH_ROUNDS (3), BENCH_RSS_SIZES.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { type ExportFormat, libpqConnectionString } from '#shared';
import { benchEnv, freshDatabase, freshVhost, startBenchService, withDatabase, type BenchService } from './support/bench-env.js';
import { jobRunner, peakRssMb } from './support/job-runner.js';
import { median } from './support/stats.js';

interface ExportResult {
  file: string;
  bytes: number;
  steps: { name: string; status: string; ms: number }[];
}

const FEATURES = Number(process.env.BENCH_FEATURES ?? 500_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RSS_SIZES = (process.env.BENCH_RSS_SIZES ?? '100000,500000,1000000').split(',').map(Number);
const ALL: ExportFormat[] = ['csv', 'shp', 'gpkg', 'geojson'];
const run = promisify(execFile);
const DATA = join(benchEnv('GEOJOBS_DATA_DIR'), 'export');

/** A point layer as geo-service leaves one: in the layers schema, owned by geo's role, with 5 attributes. */
async function makeLayer(geoUrl: string, table: string, features: number): Promise<void> {
  const geo = new pg.Client({ connectionString: geoUrl });
  await geo.connect();
  await geo.query(`DROP TABLE IF EXISTS layers."${table}"`);
  await geo.query(
    `CREATE TABLE layers."${table}" (ogc_fid serial PRIMARY KEY, wkb_geometry geometry(Point, 4326), id integer, value double precision, name varchar, code varchar, day date)`,
  );
  await geo.query(`INSERT INTO layers."${table}" (wkb_geometry, id, value, name, code, day)
    SELECT ST_SetSRID(ST_MakePoint(random() * 360 - 180, random() * 170 - 85), 4326), i, random() * 1000, 'feature ' || i, md5(i::text), DATE '2020-01-01' + (i % 1000)
      FROM generate_series(1, ${features}) i`);
  await geo.query(`COMMENT ON TABLE layers."${table}" IS 'geojobs import bench-${table}'`);
  await geo.query(`ANALYZE layers."${table}"`);
  await geo.end();
}

/** A spawned export-service and a way to run `export.layers` jobs on it, timed from the command to `job.succeeded`. */
async function exportService(amqpUrl: string, exportUrl: string) {
  const service: BenchService = await startBenchService('export-service', 'GEOJOBS_EXPORT_PORT', {
    GEOJOBS_AMQP_URL: amqpUrl,
    GEOJOBS_EXPORT_DATABASE_URL: exportUrl,
    GEOJOBS_EXPORT_SCRATCH_DIR: join(DATA, 'scratch'),
  });
  const jobs = await jobRunner(amqpUrl);
  return {
    pid: service.process.pid!,
    async export(layer: string, formats: ExportFormat[], name: string) {
      return jobs.run<ExportResult, 'export.layers'>('export.layers', { layers: [layer], formats, name });
    },
    async stop() {
      await jobs.close();
      await service.stop();
    },
  };
}

/** The command line: `ogr2ogr` per format from the same table (same role), then `zip` of what they wrote. */
async function throughOgr2ogr(exportUrl: string, table: string, formats: ExportFormat[]): Promise<{ ms: number; bytes: number }> {
  const folder = join(DATA, `ogr-${randomUUID().slice(0, 8)}`);
  await mkdir(folder, { recursive: true });
  const source = `PG:${libpqConnectionString(exportUrl)} tables=layers.${table}`;
  const layer = `layers.${table}`;
  const commands: Record<ExportFormat, string[]> = {
    csv: ['-f', 'CSV', join(folder, `${table}.csv`), source, layer, '-lco', 'GEOMETRY=AS_WKT'],
    shp: ['-f', 'ESRI Shapefile', join(folder, `${table}.shp`), source, layer, '-lco', 'ENCODING=UTF-8'],
    gpkg: ['-f', 'GPKG', join(folder, `${table}.gpkg`), source, layer],
    geojson: ['-f', 'GeoJSON', join(folder, `${table}.geojson`), source, layer],
  };
  const start = performance.now();
  for (const format of formats) await run('ogr2ogr', commands[format]);
  await run('zip', ['-q', '-r', join(folder, 'out.zip'), '.', '-x', 'out.zip'], { cwd: folder });
  const ms = performance.now() - start;
  const { size } = await stat(join(folder, 'out.zip'));
  await rm(folder, { recursive: true, force: true });
  return { ms, bytes: size };
}

const database = await freshDatabase('geojobs_bench_export');
const vhost = await freshVhost('geojobs_bench_export');
const geoUrl = withDatabase(benchEnv('GEOJOBS_GEO_DATABASE_URL'), database.name);
const exportUrl = withDatabase(benchEnv('GEOJOBS_EXPORT_DATABASE_URL'), database.name);
await mkdir(DATA, { recursive: true });
const lines: string[] = [];
try {
  process.stdout.write(`making a ${FEATURES}-point layer …\n`);
  await makeLayer(geoUrl, 'pre_bench', FEATURES);
  const service = await exportService(vhost.url, exportUrl);
  const timings = { csv: [] as number[], csvCli: [] as number[], all: [] as number[], allCli: [] as number[] };
  const sizes = { csv: 0, csvCli: 0, all: 0, allCli: 0 };
  let lastSteps = '';
  try {
    // warm-up: the service's code compiled, its connections open, as a running service has them
    await service.export('pre_bench', ['csv'], 'warmup');
    for (let round = 0; round < ROUNDS; round++) {
      const cliFirst = round % 2 === 1;
      // a new name each time: a new bundle, not the cached one
      const ours = async (formats: ExportFormat[], kind: 'csv' | 'all') => {
        const { ms, result } = await service.export('pre_bench', formats, `${kind}_${round}_${randomUUID().slice(0, 6)}`);
        timings[kind].push(ms);
        sizes[kind] = result.bytes;
        lastSteps = result.steps.map((step) => `${step.name} ${step.status} ${step.ms} ms`).join(', ');
      };
      const theirs = async (formats: ExportFormat[], kind: 'csvCli' | 'allCli') => {
        const { ms, bytes } = await throughOgr2ogr(exportUrl, 'pre_bench', formats);
        timings[kind].push(ms);
        sizes[kind] = bytes;
      };
      if (cliFirst) await theirs(['csv'], 'csvCli');
      await ours(['csv'], 'csv');
      if (!cliFirst) await theirs(['csv'], 'csvCli');
      if (cliFirst) await theirs(ALL, 'allCli');
      await ours(ALL, 'all');
      if (!cliFirst) await theirs(ALL, 'allCli');
      process.stdout.write(
        `  round ${round + 1}: csv ${(timings.csv[round] / 1000).toFixed(2)} s vs ${(timings.csvCli[round] / 1000).toFixed(2)} s, all ${(timings.all[round] / 1000).toFixed(2)} s vs ${(timings.allCli[round] / 1000).toFixed(2)} s\n`,
      );
    }
  } finally {
    await service.stop();
  }
  const m = Object.fromEntries(Object.entries(timings).map(([key, values]) => [key, median(values)])) as Record<keyof typeof timings, number>;
  lines.push(`export benchmark: ${FEATURES} points, 5 attributes, median of ${ROUNDS} rounds (interleaved)`);
  lines.push(
    `  CSV (WKT) ZIP   geojobs ${(m.csv / 1000).toFixed(2)} s (${(sizes.csv / 1e6).toFixed(1)} MB)   ogr2ogr + zip ${(m.csvCli / 1000).toFixed(2)} s (${(sizes.csvCli / 1e6).toFixed(1)} MB)   ratio ${(m.csv / m.csvCli).toFixed(2)}×  (target ≤ 0.70×)`,
  );
  lines.push(
    `  full bundle     geojobs ${(m.all / 1000).toFixed(2)} s (${(sizes.all / 1e6).toFixed(1)} MB)   4 × ogr2ogr + zip ${(m.allCli / 1000).toFixed(2)} s (${(sizes.allCli / 1e6).toFixed(1)} MB)   ratio ${(m.all / m.allCli).toFixed(2)}×  (target ≤ 1.00×)`,
  );
  lines.push(`  steps of the last full bundle: ${lastSteps}`);

  // peak RSS of a fresh service exporting the full bundle of layers of growing size
  const rss: string[] = [];
  for (const size of RSS_SIZES) {
    const table = `pre_rss_${size}`;
    await makeLayer(geoUrl, table, size);
    const fresh = await exportService(vhost.url, exportUrl);
    try {
      const { ms } = await fresh.export(table, ALL, `rss_${size}`);
      rss.push(`${size} features: ${peakRssMb(fresh.pid)} MB (${(ms / 1000).toFixed(1)} s)`);
    } finally {
      await fresh.stop();
    }
    const geo = new pg.Client({ connectionString: geoUrl });
    await geo.connect();
    await geo.query(`DROP TABLE layers."${table}"`);
    await geo.end();
  }
  lines.push(`  export-service peak RSS (VmHWM), full bundle, fresh service each: ${rss.join(', ')}   (target < 400 MB, flat)`);
  lines.push(
    `  load average at the end: ${loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await vhost.remove();
  await database.remove();
  await rm(DATA, { recursive: true, force: true });
}
console.log(lines.join('\n'));
