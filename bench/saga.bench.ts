/**
 * `npm run bench:saga`: sagas of 10, 100 and 1,000 `noop` subtasks through the built gateway and geo-service
 * (spawned as processes, as production runs them) on real RabbitMQ and PostgreSQL: the time from `POST /jobs`
 * to the saga's webhook followup arriving, the median of a few runs, and the per-subtask overhead (the
 * whole time over the subtasks, and the slope between 10 and 1,000).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';

const env = process.env;
if (!env.GEOJOBS_AMQP_URL || !env.GEOJOBS_RABBITMQ_MGMT_URL || !env.GEOJOBS_ADMIN_DATABASE_URL || !env.GEOJOBS_GATEWAY_DATABASE_URL) {
  throw new Error('run through npm run bench:saga (needs the infra variables)');
}
const SIZES = [10, 100, 1_000];
const RUNS = Number(env.BENCH_RUNS ?? 5);
const DATABASE = 'geojobs_bench_saga';
const ADMIN = { username: 'bench', password: 'bench password, long enough' };

const withDatabase = (url: string, database: string): string => {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
};

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

async function spawnService(name: string, serviceEnv: Record<string, string>, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [`dist/apps/${name}/src/main.js`], { env: { PATH: env.PATH, GEOJOBS_LOG_LEVEL: 'warn', ...serviceEnv }, stdio: ['ignore', 'inherit', 'inherit'] });
  for (let tries = 0; !(await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)); tries++) {
    if (tries > 300 || child.exitCode !== null) throw new Error(`${name} did not become healthy`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return child;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const freePort = () => 30_000 + Math.floor(Math.random() * 20_000);

// webhook receiver: when each saga's followup arrives
const arrived = new Map<string, () => void>();
const receiver = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const job = JSON.parse(Buffer.concat(chunks).toString()) as { id: string };
    arrived.get(job.id)?.();
    response.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/saga-done`;

await freshDatabase();
const vhost = `bench_saga_${randomUUID().slice(0, 8)}`;
await management('PUT', `/api/vhosts/${vhost}`, {});
await management('PUT', `/api/permissions/${vhost}/${new URL(env.GEOJOBS_AMQP_URL).username}`, { configure: '.*', write: '.*', read: '.*' });
const amqpUrl = new URL(env.GEOJOBS_AMQP_URL);
amqpUrl.pathname = `/${vhost}`;

const gatewayPort = freePort();
const geoPort = freePort() + 1;
const children: ChildProcess[] = [];
try {
  children.push(
    await spawnService(
      'gateway',
      {
        GEOJOBS_AMQP_URL: amqpUrl.toString(),
        GEOJOBS_GATEWAY_DATABASE_URL: withDatabase(env.GEOJOBS_GATEWAY_DATABASE_URL, DATABASE),
        GEOJOBS_GATEWAY_PORT: String(gatewayPort),
        GEOJOBS_JWT_SECRET: env.GEOJOBS_JWT_SECRET ?? 'a bench signing secret of at least 32 characters',
        GEOJOBS_ADMIN_USER: ADMIN.username,
        GEOJOBS_ADMIN_PASSWORD: ADMIN.password,
        GEOJOBS_ALLOWED_HOSTS: '127.0.0.1', // the webhook receiver
      },
      gatewayPort,
    ),
  );
  // noop subtasks take no time: let the geo-service hold many at once
  children.push(await spawnService('geo-service', { GEOJOBS_AMQP_URL: amqpUrl.toString(), GEOJOBS_GEO_DATABASE_URL: withDatabase(env.GEOJOBS_GEO_DATABASE_URL!, DATABASE), GEOJOBS_GEO_PORT: String(geoPort), GEOJOBS_PREFETCH: '500' }, geoPort));

  const gateway = `http://127.0.0.1:${gatewayPort}`;
  const token = ((await (await fetch(`${gateway}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) })).json()) as { access_token: string }).access_token;

  const database = new pg.Client({ connectionString: withDatabase(env.GEOJOBS_ADMIN_DATABASE_URL!, DATABASE) });
  await database.connect();
  /** Where a saga's time went, from the timestamps in its rows. */
  const breakdown = async (id: string): Promise<string> => {
    const { rows } = await database.query(
      `SELECT extract(epoch FROM min(c.started_at) - p.created_at) * 1000 AS first_start,
              extract(epoch FROM max(c.finished_at) - p.created_at) * 1000 AS last_child,
              extract(epoch FROM p.finished_at - p.created_at) * 1000 AS merged,
              (SELECT extract(epoch FROM max(f.updated_at) - p.created_at) * 1000 FROM jobs.followup_runs f WHERE f.job_id = p.id) AS followed_up
       FROM jobs.jobs p JOIN jobs.jobs c ON c.parent_id = p.id WHERE p.id = $1 GROUP BY p.id`,
      [id],
    );
    const ms = (value: unknown) => `${Number(value).toFixed(0)} ms`;
    return `first subtask started ${ms(rows[0].first_start)}, last settled ${ms(rows[0].last_child)}, merged ${ms(rows[0].merged)}, webhook done ${ms(rows[0].followed_up)}`;
  };
  let lastSaga = '';

  /** One saga: milliseconds from submission to its webhook followup. */
  const saga = async (subtasks: number): Promise<number> => {
    const start = performance.now();
    const response = await fetch(`${gateway}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ type: 'noop', input: { service: 'geo', children: subtasks }, idempotencyKey: randomUUID(), followups: { onSuccess: [{ type: 'webhook', url: webhookUrl }] } }),
    });
    const job = (await response.json()) as { id: string };
    if (response.status !== 202) throw new Error(`POST /jobs: ${response.status} ${JSON.stringify(job)}`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`saga ${job.id} of ${subtasks} had no followup in 60 s`)), 60_000);
      arrived.set(job.id, () => (clearTimeout(timer), resolve()));
    });
    arrived.delete(job.id);
    lastSaga = job.id;
    return performance.now() - start;
  };

  for (const size of SIZES) await saga(size); // warm-up: JIT, connection pools, queues
  const results = new Map<number, number>();
  for (const size of SIZES) {
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) times.push(await saga(size));
    results.set(size, median(times));
    process.stdout.write(
      `saga of ${String(size).padStart(5)} noop subtasks: ${median(times).toFixed(0).padStart(5)} ms submission → followup (median of ${RUNS}; min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}), ${(median(times) / size).toFixed(3)} ms per subtask\n` +
        `  last run, from its rows' timestamps: ${await breakdown(lastSaga)}\n`,
    );
  }
  const slope = (results.get(1_000)! - results.get(10)!) / (1_000 - 10);
  process.stdout.write(`per-subtask overhead (slope 10 → 1,000): ${slope.toFixed(3)} ms; fixed cost of a saga ≈ ${(results.get(10)! - 10 * slope).toFixed(0)} ms\n`);
  await database.end();
  process.stdout.write(`target: 1,000 subtasks under 600 ms — ${results.get(1_000)! < 600 ? 'met' : 'NOT met'} on this machine (${(await import('node:os')).cpus().length} cores)\n`);
} finally {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))));
  await management('DELETE', `/api/vhosts/${vhost}`);
  receiver.close();
}
