/**
 * `npm run bench:saga`: sagas of 10, 100 and 1,000 `noop` subtasks through the built gateway and geo-service
 * (spawned as processes, as production runs them) on real RabbitMQ and PostgreSQL: the time from `POST /jobs`
 * to the saga's webhook followup arriving, the median of a few runs, and the per-subtask overhead (the
 * whole time over the subtasks, and the slope between 10 and 1,000).
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { benchEnv, freshDatabase, freshVhost, startBenchGateway, startBenchService, withDatabase, type BenchService } from './support/bench-env.js';
import { median } from './support/stats.js';

const SIZES = [10, 100, 1_000];
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

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

const database = await freshDatabase('geojobs_bench_saga');
const vhost = await freshVhost('geojobs_bench_saga');
const services: BenchService[] = [];
try {
  const gateway = await startBenchGateway(vhost.url, database.name, { GEOJOBS_ALLOWED_HOSTS: '127.0.0.1' }); // the webhook receiver
  services.push(gateway);
  // noop subtasks take no time: let the geo-service hold many at once
  services.push(
    await startBenchService('geo-service', 'GEOJOBS_GEO_PORT', {
      GEOJOBS_AMQP_URL: vhost.url,
      GEOJOBS_GEO_DATABASE_URL: withDatabase(benchEnv('GEOJOBS_GEO_DATABASE_URL'), database.name),
      GEOJOBS_PREFETCH: '500',
    }),
  );

  const { token } = gateway;

  const db = new pg.Client({ connectionString: withDatabase(benchEnv('GEOJOBS_ADMIN_DATABASE_URL'), database.name) });
  await db.connect();
  /** Where a saga's time went, from the timestamps in its rows. */
  const breakdown = async (id: string): Promise<string> => {
    const { rows } = await db.query<Record<'first_start' | 'last_child' | 'merged' | 'followed_up', string | null>>(
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
    const response = await fetch(`${gateway.url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        type: 'noop',
        input: { service: 'geo', children: subtasks },
        idempotencyKey: randomUUID(),
        followups: { onSuccess: [{ type: 'webhook', url: webhookUrl }] },
      }),
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
  process.stdout.write(
    `per-subtask overhead (slope 10 → 1,000): ${slope.toFixed(3)} ms; fixed cost of a saga ≈ ${(results.get(10)! - 10 * slope).toFixed(0)} ms\n`,
  );
  await db.end();
  process.stdout.write(
    `target: 1,000 subtasks under 600 ms — ${results.get(1_000)! < 600 ? 'met' : 'NOT met'} on this machine (${(await import('node:os')).cpus().length} cores)\n`,
  );
} finally {
  for (const service of services) await service.stop();
  await vhost.remove();
  await database.remove();
  receiver.close();
}
