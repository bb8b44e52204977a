/**
 * `npm run bench:intake`: POST /jobs from 50 concurrent clients for 30 s (BENCH_SECONDS, BENCH_CLIENTS), each
 * job distinct (so none is answered from the duplicate check), against a gateway writing to PostgreSQL and
 * relaying to RabbitMQ. Prints accepted jobs/s and the latency percentiles, then how long the outbox took
 * to drain to the broker.
 *
 * The same load runs first for 3 s (BENCH_WARMUP_SECONDS) on the fresh gateway, and is reported on its own: a
 * process just started answers its first requests slowly (V8 compiles its code as it first runs, each connection
 * prepares its statements), 100–600 ms for the first 500 or so, which would otherwise be the p99 of a 20 s run and
 * not of a 60 s one. The figures after it are those of a gateway that has been running.
 */
import autocannon from 'autocannon';
import pg from 'pg';
import { benchEnv, freshDatabase, freshVhost, isMain, startBenchGateway, withDatabase } from './support/bench-env.js';

export interface IntakeResult {
  /** Accepted jobs per second. */
  rate: number;
  p50: number;
  p99: number;
  errors: number;
  /** The fresh gateway's first seconds (the warm-up), measured apart. */
  warmup: { seconds: number; p99: number; max: number };
}

const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);

/** POST /jobs from `clients` concurrent clients for `seconds` against a fresh gateway; prints and returns the figures. */
export async function runIntake(seconds: number, clients: number): Promise<IntakeResult> {
  const SECONDS = seconds;
  const CLIENTS = clients;
  const database = await freshDatabase('geojobs_bench_intake');
  const vhost = await freshVhost('geojobs_bench_intake');
  // nothing consumes the jobs here, so one owner piles up far more than the default cap of unfinished jobs: the cap
  // is off unless BENCH_MAX_QUEUED_PER_OWNER sets one (a high one measures what checking it costs)
  const gateway = await startBenchGateway(vhost.url, database.name, { GEOJOBS_MAX_QUEUED_PER_OWNER: process.env.BENCH_MAX_QUEUED_PER_OWNER ?? '0' });
  const { token } = gateway;

  try {
    let counter = 0;
    const load = (duration: number) =>
      autocannon({
        url: `${gateway.url}/jobs`,
        connections: CLIENTS,
        duration,
        requests: [
          {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            setupRequest: (request) => ({
              ...request,
              body: JSON.stringify({ type: 'noop', input: { service: 'geo', sleepMs: 1, fail: `job ${counter++}` } }),
            }),
          },
        ],
      });
    const warmup = await load(WARMUP_SECONDS);
    const result = await load(SECONDS);
    const accepted = result['2xx'];
    const drainStarted = performance.now();
    const db = new pg.Client({ connectionString: withDatabase(benchEnv('GEOJOBS_ADMIN_DATABASE_URL'), database.name) });
    await db.connect();
    for (;;) {
      const { rows } = await db.query<{ count: string }>('SELECT count(*) FROM jobs.outbox');
      if (rows[0].count === '0') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { rows } = await db.query<{ count: string }>('SELECT count(*) FROM jobs.jobs');
    await db.end();

    console.log(`intake benchmark: POST /jobs, ${CLIENTS} concurrent clients, ${SECONDS} s, every job distinct`);
    console.log(
      `  accepted   ${Math.round(accepted / SECONDS)} jobs/s (${accepted} jobs, ${result.non2xx} non-2xx, ${result.errors} errors; ${rows[0].count} rows in jobs.jobs, the warm-up's included)`,
    );
    console.log(`  latency    p50 ${result.latency.p50} ms   p90 ${result.latency.p90} ms   p99 ${result.latency.p99} ms   max ${result.latency.max} ms`);
    console.log(
      `  warm-up    the fresh gateway's first ${WARMUP_SECONDS} s, before the figures above: p99 ${warmup.latency.p99} ms   max ${warmup.latency.max} ms`,
    );
    console.log(`  outbox     drained to RabbitMQ ${Math.round(performance.now() - drainStarted)} ms after the load stopped`);
    console.log('  target     ≥ 1,500 jobs/s with p99 < 100 ms (2-core machine)');
    return {
      rate: Math.round(accepted / SECONDS),
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: result.errors + result.non2xx + warmup.errors + warmup.non2xx,
      warmup: { seconds: WARMUP_SECONDS, p99: warmup.latency.p99, max: warmup.latency.max },
    };
  } finally {
    await gateway.stop();
    await vhost.remove();
    await database.remove();
  }
}

if (isMain(import.meta.url)) await runIntake(Number(process.env.BENCH_SECONDS ?? 30), Number(process.env.BENCH_CLIENTS ?? 50));
