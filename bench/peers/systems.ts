/**
 * The systems bench:peers runs side by side, each kept up across the rounds of a comparison: geojobs (the built
 * gateway and geo-service as processes, on a fresh database and vhost), Celery (a worker of Debian's python3-celery
 * on a vhost of the same RabbitMQ, results in the private Redis) and BullMQ (a worker process on the private Redis).
 * Each offers `fanout(n)` (submission → its callback reached the webhook receiver) and `throughput(n)` (n independent
 * no-op jobs, submission of the first → the last completed, completion polled every 10 ms on all three).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { FlowProducer, Queue } from 'bullmq';
import pg from 'pg';
import { Pool } from 'undici';
import { waitFor } from '../../libs/testing/src/index.js';
import {
  benchEnv,
  benchNodeArgs,
  freshDatabase,
  freshVhost,
  startBenchGateway,
  startBenchService,
  stopProcess,
  withDatabase,
  type BenchService,
} from '../support/bench-env.js';
import { redisConnection } from './redis-client.js';

/** Debian's Python, which python3-celery is installed for (the `python3` first on PATH may be another build). */
export const DEBIAN_PYTHON = '/usr/bin/python3';
const CELERY_DIR = join(process.cwd(), 'bench', 'peers', 'celery');
const POLL_MS = 10;
/** Concurrent submitters of the throughput comparison, on each side that can submit concurrently. */
const THROUGHPUT_CLIENTS = 50;

export interface PeerSystem {
  fanout(subtasks: number): Promise<number>;
  /** Where the last fan-out's time went, when the system records it (geojobs' rows do). */
  lastFanout?(): Promise<string>;
  throughput(jobs: number): Promise<number>;
  stop(): Promise<void>;
}

/** Lines of a child's stdout, one at a time, in order. */
function lines(child: ChildProcess): () => Promise<string> {
  const reader: Interface = createInterface({ input: child.stdout! });
  const queued: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  reader.on('line', (line) => (waiting.length ? waiting.shift()!(line) : queued.push(line)));
  child.once('exit', (code) => {
    for (const wake of waiting.splice(0)) wake(JSON.stringify({ error: `exited with ${code}` }));
  });
  return () => (queued.length ? Promise.resolve(queued.shift()!) : new Promise((resolve) => waiting.push(resolve)));
}

/** Where every system's callback lands: `POST {id}` (geojobs' webhook sends the job, whose `id` is the saga's). */
export class WebhookReceiver {
  private readonly arrived = new Map<string, () => void>();
  /** Callbacks that came before anyone expected them (geojobs' saga id is known only from POST /jobs' answer). */
  private readonly early = new Set<string>();
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<WebhookReceiver> {
    let self: WebhookReceiver | undefined;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const { id } = JSON.parse(Buffer.concat(chunks).toString()) as { id: string };
        const wake = self!.arrived.get(id);
        if (wake) wake();
        else self!.early.add(id);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new WebhookReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/done`);
    return self;
  }

  /** Resolves when the callback for `id` arrives (registered before the submission, so none is missed). */
  expect(id: string, timeoutMs = 120_000): Promise<void> {
    if (this.early.delete(id)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no callback for ${id} in ${timeoutMs} ms`)), timeoutMs);
      this.arrived.set(id, () => {
        clearTimeout(timer);
        this.arrived.delete(id);
        resolve();
      });
    });
  }

  close(): void {
    this.server.close();
  }
}

/** A private redis-server (Debian's) on `port`, its files under `dir`, with the package's default persistence (RDB snapshots). */
export async function startRedis(port: number, dir: string): Promise<{ stop: () => Promise<void> }> {
  mkdirSync(dir, { recursive: true });
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '3600 1 300 100 60 10000', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const next = lines(child);
  for (;;) {
    const line = await next();
    if (line.includes('Ready to accept connections')) break;
    if (line.startsWith('{"error"')) throw new Error(`redis-server on port ${port}: ${line}`);
  }
  child.stdout.resume();
  return { stop: () => stopProcess(child) };
}

/**
 * geojobs: gateway + geo-service (prefetch 500, as bench:saga) on a fresh database and vhost; the built services in
 * the current folder's dist, or in `root`'s (another checkout's, to compare two builds in one run, with another database
 * name, migrated by that build: a change to the schema is measured too).
 */
export async function startGeojobs(receiver: WebhookReceiver, databaseName = 'geojobs_bench_peers', root = process.cwd()): Promise<PeerSystem> {
  const database = await freshDatabase(databaseName, root);
  const vhost = await freshVhost('geojobs_bench_peers');
  const services: BenchService[] = [];
  const gateway = await startBenchGateway(vhost.url, database.name, { GEOJOBS_ALLOWED_HOSTS: '127.0.0.1' }, root);
  services.push(gateway);
  services.push(
    await startBenchService(
      'geo-service',
      'GEOJOBS_GEO_PORT',
      {
        GEOJOBS_AMQP_URL: vhost.url,
        GEOJOBS_GEO_DATABASE_URL: withDatabase(benchEnv('GEOJOBS_GEO_DATABASE_URL'), database.name),
        GEOJOBS_PREFETCH: '500',
      },
      root,
    ),
  );
  const db = new pg.Client({ connectionString: withDatabase(benchEnv('GEOJOBS_ADMIN_DATABASE_URL'), database.name) });
  await db.connect();
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${gateway.token}` };
  // undici's request on a pool of keep-alive connections, one per client: fetch cost the bench 0.7 ms of CPU a job,
  // on the two cores the system under test has (the gateway spent 1.2 ms)
  const http = new Pool(gateway.url, { connections: THROUGHPUT_CLIENTS });
  const submit = async (input: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<string> => {
    const response = await http.request({
      method: 'POST',
      path: '/jobs',
      headers,
      body: JSON.stringify({ type: 'noop', input: { service: 'geo', ...input }, idempotencyKey: randomUUID(), ...extra }),
    });
    const job = (await response.body.json()) as { id: string };
    if (response.statusCode !== 202) throw new Error(`POST /jobs: ${response.statusCode} ${JSON.stringify(job)}`);
    return job.id;
  };
  const succeeded = async () =>
    Number((await db.query<{ count: string }>(`SELECT count(*) FROM jobs.jobs WHERE parent_id IS NULL AND state = 'succeeded'`)).rows[0].count);
  const unfinished = async () =>
    Number((await db.query<{ count: string }>(`SELECT count(*) FROM jobs.jobs WHERE parent_id IS NULL AND state IN ('queued', 'running')`)).rows[0].count);
  let lastSaga = '';
  return {
    async lastFanout() {
      // bench:saga's breakdown, from the timestamps of the saga's rows
      const { rows } = await db.query<Record<'first_start' | 'last_child' | 'merged' | 'followed_up', string | null>>(
        `SELECT extract(epoch FROM min(c.started_at) - p.created_at) * 1000 AS first_start,
                extract(epoch FROM max(c.finished_at) - p.created_at) * 1000 AS last_child,
                extract(epoch FROM p.finished_at - p.created_at) * 1000 AS merged,
                (SELECT extract(epoch FROM max(f.updated_at) - p.created_at) * 1000 FROM jobs.followup_runs f WHERE f.job_id = p.id) AS followed_up
         FROM jobs.jobs p JOIN jobs.jobs c ON c.parent_id = p.id WHERE p.id = $1 GROUP BY p.id`,
        [lastSaga],
      );
      const ms = (value: unknown) => `${Number(value).toFixed(0)} ms`;
      return `first subtask started ${ms(rows[0].first_start)}, last subtask settled ${ms(rows[0].last_child)}, saga merged ${ms(rows[0].merged)}, webhook done ${ms(rows[0].followed_up)} after the row was created`;
    },
    async fanout(subtasks) {
      const start = performance.now();
      // the id is known only from the answer: the receiver keeps a callback that arrives before `expect`
      const id = await submit({ children: subtasks }, { followups: { onSuccess: [{ type: 'webhook', url: receiver.url }] } });
      await receiver.expect(id);
      lastSaga = id;
      return performance.now() - start;
    },
    async throughput(jobs) {
      const baseline = await succeeded();
      const start = performance.now();
      let next = 0;
      const client = async () => {
        while (next < jobs) {
          next++;
          await submit({});
        }
      };
      await Promise.all(Array.from({ length: THROUGHPUT_CLIENTS }, client));
      // every job is in the table once its POST is answered: the round is done when none is left unfinished, a count
      // over the partial index of unfinished jobs that shrinks as they finish (a count of the succeeded, read 100 times
      // a second, grows by 10,000 rows a round)
      await waitFor(async () => (await unfinished()) === 0, `${jobs} geojobs noop jobs finished`, { timeoutMs: 600_000, intervalMs: POLL_MS });
      const elapsed = performance.now() - start;
      const done = (await succeeded()) - baseline;
      if (done !== jobs) throw new Error(`${done} of ${jobs} geojobs noop jobs succeeded`);
      return elapsed;
    },
    async stop() {
      await http.close();
      await db.end();
      for (const service of services) await service.stop();
      await vhost.remove();
      await database.remove();
    },
  };
}

/** Celery: `celery worker` (default prefork pool, one process per core) and the driver (bench/peers/celery). */
export async function startCelery(receiver: WebhookReceiver, redisPort: number): Promise<PeerSystem> {
  const vhost = await freshVhost('celery_bench_peers');
  const env = {
    PATH: process.env.PATH,
    PYTHONPATH: CELERY_DIR,
    PYTHONDONTWRITEBYTECODE: '1',
    PEERS_CELERY_BROKER: vhost.url,
    PEERS_CELERY_BACKEND: `redis://127.0.0.1:${redisPort}/1`,
  };
  const worker = spawn(DEBIAN_PYTHON, ['-m', 'celery', '-A', 'tasks', 'worker', '--loglevel=WARNING'], {
    cwd: CELERY_DIR,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const driver = spawn(DEBIAN_PYTHON, ['driver.py'], { cwd: CELERY_DIR, env, stdio: ['pipe', 'pipe', 'inherit'] });
  const next = lines(driver);
  const ask = async (command: Record<string, unknown>): Promise<Record<string, unknown>> => {
    driver.stdin.write(`${JSON.stringify(command)}\n`);
    const answer = JSON.parse(await next()) as Record<string, unknown>;
    if (answer.error) throw new Error(`celery driver: ${JSON.stringify(answer.error)}`);
    return answer;
  };
  const ready = JSON.parse(await next()) as { ready?: boolean; error?: string };
  if (!ready.ready) throw new Error(`the celery driver did not start: ${ready.error}`);
  return {
    async fanout(subtasks) {
      const id = randomUUID();
      const done = receiver.expect(id);
      const start = performance.now();
      await ask({ cmd: 'fanout', n: subtasks, url: receiver.url, id });
      await done;
      return performance.now() - start;
    },
    async throughput(jobs) {
      const start = performance.now();
      await ask({ cmd: 'throughput', n: jobs });
      return performance.now() - start;
    },
    async stop() {
      driver.stdin.end();
      await stopProcess(driver);
      await stopProcess(worker);
      await vhost.remove();
    },
  };
}

/** BullMQ: the worker process (bench/peers/bullmq-worker.ts); flows and jobs added from here, as an app would. */
export async function startBullmq(receiver: WebhookReceiver, redisPort: number): Promise<PeerSystem> {
  const worker = spawn(process.execPath, [...benchNodeArgs(), 'dist/bench/peers/bullmq-worker.js'], {
    env: { PATH: process.env.PATH, BULLMQ_REDIS_PORT: String(redisPort) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const next = lines(worker);
  if ((await next()) !== 'ready') throw new Error('the BullMQ worker did not start');
  const connections = [redisConnection(redisPort), redisConnection(redisPort)];
  const flows = new FlowProducer({ connection: connections[0].connection });
  const queue = new Queue('peers-noop', { connection: connections[1].connection });
  await queue.waitUntilReady();
  return {
    async fanout(subtasks) {
      const id = randomUUID();
      const done = receiver.expect(id);
      const start = performance.now();
      await flows.add({
        name: 'parent',
        queueName: 'peers-parent',
        data: { url: receiver.url, id },
        children: Array.from({ length: subtasks }, () => ({ name: 'noop', queueName: 'peers-noop', data: {} })),
      });
      await done;
      return performance.now() - start;
    },
    async throughput(jobs) {
      const baseline = await queue.getCompletedCount();
      const start = performance.now();
      let next = 0;
      const client = async () => {
        while (next < jobs) {
          next++;
          await queue.add('noop', {});
        }
      };
      await Promise.all(Array.from({ length: THROUGHPUT_CLIENTS }, client));
      await waitFor(async () => (await queue.getCompletedCount()) >= baseline + jobs, `${jobs} BullMQ jobs completed`, {
        timeoutMs: 600_000,
        intervalMs: POLL_MS,
      });
      return performance.now() - start;
    },
    async stop() {
      await flows.close();
      await queue.close();
      for (const { disconnect } of connections) disconnect();
      await stopProcess(worker);
    },
  };
}
