/**
 * `npm run bench:import`: a generated 500,000-point GeoJSON (5 attributes) through the whole geopreview job —
 * HTTP download, open, import into PostGIS with COPY, clean, index, describe, atomic swap — on a spawned
 * geo-service, timed from publishing `geo.preview` to `job.succeeded`; then the same file with the `ogr2ogr`
 * command line into the same PostGIS (same role, same schema). Prints features/s of both, the ratio, and the
 * geo-service's peak RSS (VmHWM from /proc/<pid>/status).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import pg from 'pg';
import { pino } from 'pino';
import { Broker, EXCHANGES } from '#shared';
import { pgConnectionString } from '../apps/geo-service/src/geopreview/layer-name.js';

const FEATURES = Number(process.env.BENCH_FEATURES ?? 500_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const env = process.env;
if (!env.GEOJOBS_AMQP_URL || !env.GEOJOBS_RABBITMQ_MGMT_URL || !env.GEOJOBS_ADMIN_DATABASE_URL || !env.GEOJOBS_GEO_DATABASE_URL) {
  throw new Error('run through npm run bench:import (needs the infra variables)');
}
const ROOT = process.cwd();
const DATA = join(env.GEOJOBS_DATA_DIR ?? join(ROOT, '.data', 'bench'), 'import');
const DATABASE = 'geojobs_bench_import';

const withDatabase = (url: string, name: string) => {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
};

/** Point i of the file: spread over the globe, 5 attributes of 4 types. */
async function generate(path: string): Promise<void> {
  const out = createWriteStream(path);
  const write = (text: string) => (out.write(text) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', () => resolve())));
  await write('{"type":"FeatureCollection","features":[\n');
  let buffer = '';
  for (let i = 0; i < FEATURES; i++) {
    const lon = ((i * 7919) % 360_000) / 1000 - 180;
    const lat = ((i * 104_729) % 170_000) / 1000 - 85;
    buffer += `${i ? ',' : ''}{"type":"Feature","properties":{"id":${i},"name":"point ${i}","value":${(i % 1000) / 10},"category":"c${i % 17}","active":${i % 2 === 0}},"geometry":{"type":"Point","coordinates":[${lon},${lat}]}}\n`;
    if (buffer.length > 1 << 20) {
      await write(buffer);
      buffer = '';
    }
  }
  await write(`${buffer}]}\n`);
  await new Promise<void>((resolve) => out.end(resolve));
}

async function management(method: string, path: string, body?: unknown): Promise<void> {
  const base = new URL(env.GEOJOBS_RABBITMQ_MGMT_URL!);
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`;
  base.username = '';
  base.password = '';
  await fetch(new URL(path, base), { method, headers: { authorization: auth, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function freshDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: env.GEOJOBS_ADMIN_DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${DATABASE}"`);
  await admin.end();
  execFileSync('node', ['dist/scripts/migrate.js'], { env: { ...env, GEOJOBS_ADMIN_DATABASE_URL: withDatabase(env.GEOJOBS_ADMIN_DATABASE_URL!, DATABASE) }, stdio: 'ignore' });
}

const peakRssMb = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((text) => text.startsWith('VmHWM:'))!;
  return Math.round(Number(/(\d+)/.exec(line)![1]) / 1024);
};

async function throughGeoService(fileUrl: string, amqpUrl: string, geoUrl: string): Promise<{ ms: number; rssMb: number; features: number }> {
  const port = 30_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(process.execPath, ['dist/apps/geo-service/src/main.js'], {
    env: { PATH: env.PATH, GEOJOBS_AMQP_URL: amqpUrl, GEOJOBS_GEO_DATABASE_URL: geoUrl, GEOJOBS_GEO_PORT: String(port), GEOJOBS_ALLOWED_HOSTS: '127.0.0.1', GEOJOBS_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    for (let tries = 0; !(await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)); tries++) {
      if (tries > 300) throw new Error('geo-service did not become healthy');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const connection = await amqp.connect(amqpUrl);
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, EXCHANGES.events, 'job.#');
    const broker = new Broker({ url: amqpUrl, connectionName: 'bench', deliveryLimit: 10, retryDelaysMs: [1_000], maxAttempts: 1, maxUnconfirmed: 100, heartbeatSeconds: 30 }, pino({ level: 'warn' }));
    await broker.start();
    await broker.ready();
    const jobId = randomUUID();
    const ended = new Promise<Record<string, any>>((resolve) => {
      void channel.consume(queue, (message) => {
        if (!message) return;
        const event = JSON.parse(message.content.toString()) as { type: string; payload: Record<string, any> };
        if (event.payload.jobId === jobId && (event.type === 'job.succeeded' || event.type === 'job.failed')) resolve(event);
      }, { noAck: true });
    });
    const start = performance.now();
    await broker.publishCommand('geo.preview', { jobId, datasetId: 'bench', resourceId: `bench-${jobId}`, url: fileUrl }, { correlationId: jobId });
    const event = await ended;
    const ms = performance.now() - start;
    if (event.type !== 'job.succeeded') throw new Error(`the job failed: ${JSON.stringify(event.payload.error)}`);
    const rssMb = peakRssMb(child.pid!);
    await broker.close();
    await connection.close();
    return { ms, rssMb, features: event.payload.result.featureCount as number };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

async function throughOgr2ogr(file: string, geoUrl: string, table: string): Promise<number> {
  const start = performance.now();
  await promisify(execFile)('ogr2ogr', ['-f', 'PostgreSQL', `PG:${pgConnectionString(geoUrl)}`, file, '-nln', table, '-lco', 'SCHEMA=layers']);
  return performance.now() - start;
}

mkdirSync(DATA, { recursive: true });
const file = join(DATA, `points-${FEATURES}.geojson`);
if (!existsSync(file)) {
  process.stdout.write(`generating ${file} …\n`);
  await generate(file);
}
const bytes = statSync(file).size;
const server = createServer((request, response) => {
  response.writeHead(200, { 'content-length': bytes, 'content-type': 'application/geo+json' });
  createReadStream(file).pipe(response);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const fileUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/points.geojson`;

await freshDatabase();
const geoUrl = withDatabase(env.GEOJOBS_GEO_DATABASE_URL, DATABASE);
const vhost = `geojobs_bench_import_${randomUUID().slice(0, 8)}`;
await management('PUT', `/api/vhosts/${vhost}`, {});
await management('PUT', `/api/permissions/${vhost}/${decodeURIComponent(new URL(env.GEOJOBS_AMQP_URL).username)}`, { configure: '.*', write: '.*', read: '.*' });
const amqpUrl = new URL(env.GEOJOBS_AMQP_URL);
amqpUrl.pathname = `/${vhost}`;

const service: { ms: number; rssMb: number }[] = [];
const cli: number[] = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    const run = await throughGeoService(fileUrl, amqpUrl.toString(), geoUrl);
    if (run.features !== FEATURES) throw new Error(`imported ${run.features} features, expected ${FEATURES}`);
    service.push(run);
    cli.push(await throughOgr2ogr(file, geoUrl, `ogr2ogr_${round}`));
  }
} finally {
  server.close();
  await management('DELETE', `/api/vhosts/${vhost}`);
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const serviceMs = median(service.map((run) => run.ms));
const cliMs = median(cli);
const rate = (ms: number) => Math.round((FEATURES / ms) * 1000);
const peak = Math.max(...service.map((run) => run.rssMb));
console.log(`import benchmark: ${FEATURES} points, 5 attributes, GeoJSON of ${(bytes / 1e6).toFixed(1)} MB, median of ${ROUNDS} rounds`);
console.log(`  geo-service, whole job (HTTP download, import, clean, index, describe)   ${String(rate(serviceMs)).padStart(7)} features/s   (${(serviceMs / 1000).toFixed(2)} s)`);
console.log(`  ogr2ogr -f PostgreSQL PG:… file.geojson (same PostGIS, role, schema)      ${String(rate(cliMs)).padStart(7)} features/s   (${(cliMs / 1000).toFixed(2)} s)`);
console.log(`  ratio geo-service / ogr2ogr   ${(cliMs / serviceMs).toFixed(2)}×   (target ≥ 1.00×)`);
console.log(`  geo-service peak RSS (VmHWM)  ${peak} MB   (target < 500 MB)`);
