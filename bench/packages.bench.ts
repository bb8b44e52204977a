/**
 * `npm run bench:packages`: a batch package (`package.build` over 50 boundaries × 3 processors — the boundary, a
 * vector layer clipped with ST_Intersection, a GeoTIFF warped to a COG) through the built gateway and export-service
 * on real RabbitMQ and PostgreSQL: the time from `POST /jobs` to the batch's end, and the gateway's latency on
 * `GET /jobs/:id` (p50, p99) while the batch runs — the API must stay responsive (target p99 < 100 ms).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import gdal from 'gdal-async';
import pg from 'pg';
import { benchEnv, freshDatabase, freshVhost, startBenchGateway, startBenchService, withDatabase, type BenchService } from './support/bench-env.js';
import { percentile } from './support/stats.js';

const BOUNDARIES = Number(process.env.BENCH_BOUNDARIES ?? 50);
const POINTS = 20_000;
/** export_q's prefetch is the batch's bound on concurrency (per export-service copy); the service's default is 2. */
const PREFETCH = process.env.BENCH_PREFETCH ?? '2';
const POLL_EVERY_MS = 50;
/** A grid of 1° squares, 10 to a row. */
const COLUMNS = 10;
const rows = Math.ceil(BOUNDARIES / COLUMNS);

const run = randomUUID().slice(0, 8);
let batchStarted = 0;
const storage = join(benchEnv('GEOJOBS_DATA_DIR'), 'storage');
const layer = `pre_bench_${run}`;
const rasterKey = `sources/bench-${run}.tif`;
const boundariesKey = `boundaries/bench-${run}.geojson`;

// the boundaries: squares of a grid, named b<run>_<n>
const square = (column: number, row: number) => [
  [
    [column, row],
    [column + 1, row],
    [column + 1, row + 1],
    [column, row + 1],
    [column, row],
  ],
];
await mkdir(join(storage, 'boundaries'), { recursive: true });
await writeFile(
  join(storage, boundariesKey),
  JSON.stringify({
    type: 'FeatureCollection',
    features: Array.from({ length: BOUNDARIES }, (_, index) => ({
      type: 'Feature',
      properties: { code: `b${run}_${index}`, title: `Bench square ${index}` },
      geometry: { type: 'Polygon', coordinates: square(index % COLUMNS, Math.floor(index / COLUMNS)) },
    })),
  }),
);

// the raster: 0.01° pixels over the grid
await mkdir(join(storage, 'sources'), { recursive: true });
const width = COLUMNS * 100;
const height = rows * 100;
const raster = gdal.open(join(storage, rasterKey), 'w', 'GTiff', width, height, 1, gdal.GDT_Byte);
raster.srs = gdal.SpatialReference.fromEPSG(4326);
raster.geoTransform = [0, 0.01, 0, rows, 0, -0.01];
const pixels = new Uint8Array(width * height);
for (let index = 0; index < pixels.length; index++) pixels[index] = 1 + (index % 250);
raster.bands.get(1).pixels.write(0, 0, width, height, pixels);
raster.close();

const database = await freshDatabase('geojobs_bench_packages');
const vhost = await freshVhost('geojobs_bench_packages');
const services: BenchService[] = [];
const admin = new pg.Client({ connectionString: withDatabase(benchEnv('GEOJOBS_ADMIN_DATABASE_URL'), database.name) });
try {
  await admin.connect();
  await admin.query(`CREATE TABLE layers.${layer} (ogc_fid serial PRIMARY KEY, name text, wkb_geometry geometry(Point, 4326))`);
  await admin.query(
    `INSERT INTO layers.${layer} (name, wkb_geometry)
     SELECT 'point ' || n, ST_SetSRID(ST_MakePoint(random() * $1, random() * $2), 4326) FROM generate_series(1, $3) n`,
    [COLUMNS, rows, POINTS],
  );
  await admin.query(`CREATE INDEX ON layers.${layer} USING gist (wkb_geometry)`);
  await admin.query(`GRANT SELECT ON layers.${layer} TO geojobs_layers_reader`);

  const gateway = await startBenchGateway(vhost.url, database.name);
  services.push(gateway);
  services.push(
    await startBenchService('export-service', 'GEOJOBS_EXPORT_PORT', {
      GEOJOBS_AMQP_URL: vhost.url,
      GEOJOBS_EXPORT_DATABASE_URL: withDatabase(benchEnv('GEOJOBS_EXPORT_DATABASE_URL'), database.name),
      GEOJOBS_PREFETCH: PREFETCH,
      GEOJOBS_PACKAGES_VECTOR_LAYER: layer,
      GEOJOBS_PACKAGES_RASTER_SOURCE: rasterKey,
    }),
  );
  const headers = { authorization: `Bearer ${gateway.token}`, 'content-type': 'application/json' };
  const submit = async (type: string, input: Record<string, unknown>): Promise<string> => {
    const reply = await fetch(`${gateway.url}/jobs`, { method: 'POST', headers, body: JSON.stringify({ type, input }) });
    if (reply.status !== 202) throw new Error(`POST /jobs ${type}: ${reply.status} ${await reply.text()}`);
    return ((await reply.json()) as { id: string }).id;
  };
  const read = async (id: string): Promise<{ state: string; error: unknown; result: unknown }> =>
    (await fetch(`${gateway.url}/jobs/${id}`, { headers })).json() as Promise<{ state: string; error: unknown; result: unknown }>;
  const slow: { at: number; ms: number }[] = [];
  const settle = async (id: string, latencies?: number[]) => {
    for (;;) {
      const started = performance.now();
      const job = await read(id);
      const ms = performance.now() - started;
      latencies?.push(ms);
      if (latencies && ms > 100) slow.push({ at: Math.round(started - batchStarted), ms: Math.round(ms) });
      if (['succeeded', 'failed', 'cancelled', 'expired'].includes(job.state)) return job;
      await new Promise((resolve) => setTimeout(resolve, POLL_EVERY_MS));
    }
  };

  /**
   * The gateway's own figures from its /metrics: CPU seconds so far, and its event loop's delay since the last read
   * (prom-client resets that histogram at every read) — to tell a gateway that is busy from a machine that is.
   */
  const gatewayFigures = async () => {
    const text = await (await fetch(`${gateway.url}/metrics`, { headers })).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    return {
      cpuSeconds: value('process_cpu_seconds_total'),
      lagP99Ms: value('nodejs_eventloop_lag_p99_seconds') * 1000,
      lagMaxMs: value('nodejs_eventloop_lag_max_seconds') * 1000,
    };
  };

  const loadedId = await submit('package.boundaries.load', { file: boundariesKey, fields: { name: 'code', nameLong: 'title' } });
  const loaded = await settle(loadedId);
  if (loaded.state !== 'succeeded') throw new Error(`loading the boundaries ${loaded.state}: ${JSON.stringify(loaded.error)}`);

  // the peer in the same run: the same read of a finished job while nothing runs
  const idle: number[] = [];
  for (let count = 0; count < 100; count++) {
    const at = performance.now();
    await read(loadedId);
    idle.push(performance.now() - at);
    await new Promise((resolve) => setTimeout(resolve, POLL_EVERY_MS));
  }

  const names = Array.from({ length: BOUNDARIES }, (_, index) => `b${run}_${index}`);
  const latencies: number[] = [];
  // this process mostly sleeps while the batch runs: its own event-loop delay is the machine's scheduling delay
  const benchLoop = monitorEventLoopDelay({ resolution: 10 });
  const before = await gatewayFigures();
  benchLoop.enable();
  const started = performance.now();
  batchStarted = started;
  const batch = await submit('package.build', { boundaries: names, processors: ['vector_clip.version_1', 'raster_clip.version_1'] });
  const done = await settle(batch, latencies);
  const seconds = (performance.now() - started) / 1000;
  benchLoop.disable();
  const after = await gatewayFigures();
  if (done.state !== 'succeeded') throw new Error(`the batch ${done.state}: ${JSON.stringify(done.error)}`);

  const { rows: outputs } = await admin.query<{ state: string; count: string }>(
    `SELECT state, count(*) FROM packages.outputs WHERE boundary LIKE $1 GROUP BY state`,
    [`b${run}_%`],
  );
  const { rows: datapackages } = await admin.query<{ count: string }>('SELECT count(*) FROM packages.datapackages WHERE boundary LIKE $1', [`b${run}_%`]);
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  process.stdout.write(
    [
      `[bench:packages] ${BOUNDARIES} boundaries × 3 processors (boundary, vector_clip over ${POINTS} points, raster_clip of a ${width}×${height} GeoTIFF), export-service prefetch ${PREFETCH}`,
      `  batch time:        ${seconds.toFixed(1)} s (${((seconds * 1000) / BOUNDARIES).toFixed(0)} ms per boundary)`,
      `  outputs:           ${outputs.map((row) => `${row.count} ${row.state}`).join(', ')}; ${datapackages[0].count} datapackage.json written`,
      `  GET /jobs/:id during the batch (${latencies.length} requests): p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))}, max ${ms(Math.max(...latencies))} (target p99 < 100 ms)`,
      `  GET /jobs/:id idle, before the batch (${idle.length} requests): p50 ${ms(percentile(idle, 50))}, p99 ${ms(percentile(idle, 99))}; during / idle p99: ${(percentile(latencies, 99) / percentile(idle, 99)).toFixed(1)}×`,
      `  gateway during the batch: CPU ${(after.cpuSeconds - before.cpuSeconds).toFixed(1)} s of ${seconds.toFixed(1)} s; event-loop delay p99 ${ms(after.lagP99Ms)}, max ${ms(after.lagMaxMs)}`,
      `  this bench process (mostly asleep) during the batch: event-loop delay p99 ${ms(benchLoop.percentile(99) / 1e6)}, max ${ms(benchLoop.max / 1e6)} — the machine's own scheduling delay (load average ${loadavg()[0].toFixed(1)})`,
      ...(slow.length > 0 ? [`  slow answers (ms after the submission: ms taken): ${slow.map((entry) => `${entry.at}: ${entry.ms}`).join(', ')}`] : []),
      '',
    ].join('\n'),
  );
} finally {
  await admin.end().catch(() => undefined);
  await Promise.all(services.map((service) => service.stop()));
  await vhost.remove();
  await database.remove();
  const names = Array.from({ length: BOUNDARIES }, (_, index) => `b${run}_${index}`);
  await Promise.all(
    [rasterKey, boundariesKey, ...names.map((name) => `packages/${name}`)].map((key) => rm(join(storage, key), { recursive: true, force: true })),
  );
}
