/**
 * `npm run bench:peers`: geojobs side by side with what a portal would pick instead, in one run on one machine, and
 * BENCHMARKS.md written from it (the table, the machine, every version, the command). The peers are installed by the
 * bench itself (bench/peers/install.sh: Debian's redis-server and python3-celery; bullmq is an npm devDependency); a
 * private redis-server runs on BENCH_REDIS_PORT (26379) under the bench data folder for the run's length.
 *
 *   fanout      saga of 1,000 noop subtasks + webhook followup | Celery chord of 1,000 no-ops + callback | BullMQ flow
 *               of 1,000 children; submission → the callback at the webhook receiver
 *   floor       (with throughput) RabbitMQ alone: 3 × that many persistent, confirmed messages through a quorum queue,
 *               consumed and acked; PostgreSQL alone: that many single-row committed inserts from 50 clients
 *   throughput  10,000 independent noop jobs, first submission → last completed, same three; 50 submitters on the
 *               Node.js sides (Celery's client publishes from one loop, as an app calling .delay() does)
 *   intake      POST /jobs, 50 clients (bench:intake's function): p50/p99
 *   import      500,000 points: geojobs job | ogr2ogr /vsicurl/ + Web Mercator index | the same with PG_USE_COPY=NO
 *   export      bench:export / bench:convert, when those scripts exist (their output, as they print it)
 *   tiles       bench:tiles' function: gateway cold and cached, bare node:http + pg, the statement direct
 *   analytics   bench:analytics' function: gateway vs the mixpanel package's one-track()-per-event, 0 and 20 ms
 *
 * The sides of fanout, throughput and import alternate round by round (each first in turn); medians are reported.
 * BENCH_ONLY=fanout,throughput runs a subset; BENCH_QUICK=1 a small scale for a quick check (not for the table);
 * BENCH_SIDES=geojobs runs only those sides of fanout and throughput (to profile one alone; its rows then have no ratio).
 * BENCH_NODE_ARGS reaches every Node.js server spawned (e.g. --cpu-prof --cpu-prof-dir=…).
 * BENCH_BASELINE_DIR=<another checkout, built> adds its geojobs as one more side of fanout and throughput, interleaved
 * with the others, and rows of this build / that one: a change measured against the build before it in one run.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { benchEnv } from './support/bench-env.js';
import { median, percentile } from './support/stats.js';
import { postgresAlone, rabbitmqAlone } from './peers/floor.js';
import { compareImport } from './peers/import.js';
import { DEBIAN_PYTHON, startBullmq, startCelery, startGeojobs, startRedis, WebhookReceiver, type PeerSystem } from './peers/systems.js';

const FINDINGS = join('bench', 'peers', 'FINDINGS.md');
const SECTIONS = ['fanout', 'throughput', 'intake', 'import', 'export', 'tiles', 'analytics'] as const;
type Section = (typeof SECTIONS)[number];
const only = (process.env.BENCH_ONLY ?? SECTIONS.join(',')).split(',').map((name) => name.trim()) as Section[];
for (const name of only) if (!SECTIONS.includes(name)) throw new Error(`BENCH_ONLY: no section ${name} (${SECTIONS.join(', ')})`);
const QUICK = process.env.BENCH_QUICK === '1';
const SIDES = ['geojobs', 'celery', 'bullmq'] as const;
const sides = (process.env.BENCH_SIDES ?? SIDES.join(',')).split(',').map((name) => name.trim()) as (typeof SIDES)[number][];
for (const name of sides) if (!SIDES.includes(name)) throw new Error(`BENCH_SIDES: no side ${name} (${SIDES.join(', ')})`);
const scale = (full: number, quick: number) => (QUICK ? quick : full);
const FANOUT_SUBTASKS = Number(process.env.BENCH_FANOUT_SUBTASKS ?? scale(1_000, 100));
const FANOUT_ROUNDS = Number(process.env.BENCH_FANOUT_ROUNDS ?? scale(5, 2));
const THROUGHPUT_JOBS = Number(process.env.BENCH_THROUGHPUT_JOBS ?? scale(10_000, 1_000));
const THROUGHPUT_ROUNDS = Number(process.env.BENCH_THROUGHPUT_ROUNDS ?? scale(3, 1));
const INTAKE_SECONDS = Number(process.env.BENCH_INTAKE_SECONDS ?? scale(30, 5));
const IMPORT_FEATURES = Number(process.env.BENCH_IMPORT_FEATURES ?? scale(500_000, 50_000));
const IMPORT_ROUNDS = Number(process.env.BENCH_IMPORT_ROUNDS ?? scale(3, 1));
const REDIS_PORT = Number(process.env.BENCH_REDIS_PORT ?? 26_379);
const BASELINE_DIR = process.env.BENCH_BASELINE_DIR;
// the scale of the benches whose functions are reused (read by them when imported, below)
process.env.BENCH_FEATURES ??= String(scale(500_000, 50_000));
process.env.BENCH_TILES ??= String(scale(1_000, 200));
process.env.BENCH_EVENTS ??= String(scale(200_000, 20_000));

interface Row {
  section: string;
  what: string;
  geojobs: string;
  peer: string;
  peerFigure: string;
  ratio: string;
  target: string;
  met: boolean | null;
}
const rows: Row[] = [];
const notes: string[] = [];
const loads: string[] = [];
const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const msText = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
const rate = (count: number, ms: number) => Math.round((count / ms) * 1000);
const spread = (values: number[], format: (value: number) => string) => `(${values.map(format).join(', ')})`;

/** Runs each side's `measure` `rounds` times, each side first in turn, after one untimed warm-up run of each. */
async function interleaved(sides: Record<string, () => Promise<number>>, rounds: number): Promise<Record<string, number[]>> {
  const names = Object.keys(sides);
  for (const name of names) await sides[name]();
  const times: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (let turn = 0; turn < names.length; turn++) {
      const name = names[(round + turn) % names.length];
      times[name].push(await sides[name]());
    }
    process.stdout.write(`  round ${round + 1}: ${names.map((name) => `${name} ${msText(times[name][round])}`).join(', ')}\n`);
  }
  return times;
}

async function queueSystems(): Promise<void> {
  const receiver = await WebhookReceiver.start();
  // a receiver left listening would keep the bench from exiting when Redis does not start (its port taken)
  const redis = await startRedis(REDIS_PORT, join(benchEnv('GEOJOBS_DATA_DIR'), 'redis')).catch((error: unknown) => {
    receiver.close();
    throw error;
  });
  const systems: Record<string, PeerSystem> = {};
  try {
    if (sides.includes('geojobs')) systems.geojobs = await startGeojobs(receiver);
    if (sides.includes('geojobs') && BASELINE_DIR) systems.baseline = await startGeojobs(receiver, 'geojobs_bench_baseline', BASELINE_DIR);
    if (sides.includes('celery')) systems.celery = await startCelery(receiver, REDIS_PORT);
    if (sides.includes('bullmq')) systems.bullmq = await startBullmq(receiver, REDIS_PORT);
    // a peer left out by BENCH_SIDES has no row; geojobs left out, none has
    const peers = [
      { name: 'Celery', key: 'celery', fanoutTarget: 0.5 },
      { name: 'BullMQ', key: 'bullmq', fanoutTarget: 1.0 },
    ].filter((peer) => systems.geojobs && systems[peer.key]);
    if (only.includes('fanout')) {
      process.stdout.write(`fan-out: ${FANOUT_SUBTASKS} no-op subtasks and a callback, ${FANOUT_ROUNDS} rounds\n`);
      const times = await interleaved(
        Object.fromEntries(Object.entries(systems).map(([name, system]) => [name, () => system.fanout(FANOUT_SUBTASKS)])),
        FANOUT_ROUNDS,
      );
      const ours = median(times.geojobs ?? []);
      for (const peer of peers) {
        const theirs = median(times[peer.key]);
        rows.push({
          section: 'fan-out',
          what: `${FANOUT_SUBTASKS} no-op subtasks, submission → callback (median of ${FANOUT_ROUNDS})`,
          geojobs: `${msText(ours)} ${spread(times.geojobs, msText)}`,
          peer: peer.key === 'celery' ? `Celery chord + callback` : `BullMQ flow, parent job`,
          peerFigure: `${msText(theirs)} ${spread(times[peer.key], msText)}`,
          ratio: `${(ours / theirs).toFixed(2)}×`,
          target: `≤ ${peer.fanoutTarget.toFixed(1)}×`,
          met: ours / theirs <= peer.fanoutTarget,
        });
      }
      if (times.baseline) rows.push(againstBaseline('fan-out', `${FANOUT_SUBTASKS} no-op subtasks, submission → callback`, times, msText));
      if (systems.geojobs?.lastFanout) notes.push(`fan-out: geojobs' last saga, from its rows: ${await systems.geojobs.lastFanout()}.`);
      loads.push(`after fan-out: ${load()}`);
    }
    if (only.includes('throughput')) {
      process.stdout.write(`throughput: ${THROUGHPUT_JOBS} independent no-op jobs, ${THROUGHPUT_ROUNDS} rounds\n`);
      const times = await interleaved(
        Object.fromEntries(Object.entries(systems).map(([name, system]) => [name, () => system.throughput(THROUGHPUT_JOBS)])),
        THROUGHPUT_ROUNDS,
      );
      const ours = rate(THROUGHPUT_JOBS, median(times.geojobs ?? []));
      const perSecond = (ms: number) => `${rate(THROUGHPUT_JOBS, ms)}/s`;
      for (const peer of peers) {
        const theirs = rate(THROUGHPUT_JOBS, median(times[peer.key]));
        rows.push({
          section: 'throughput',
          what: `${THROUGHPUT_JOBS} independent no-op jobs, submitted → completed, jobs/s (median of ${THROUGHPUT_ROUNDS})`,
          geojobs: `${ours}/s ${spread(times.geojobs, perSecond)}`,
          peer: peer.key === 'celery' ? 'Celery, apply_async per task' : 'BullMQ, Queue.add per job',
          peerFigure: `${theirs}/s ${spread(times[peer.key], perSecond)}`,
          ratio: `${(ours / theirs).toFixed(2)}×`,
          target: '> 1.0×',
          met: ours > theirs,
        });
      }
      if (times.baseline) rows.push(againstBaseline('throughput', `${THROUGHPUT_JOBS} independent no-op jobs, submitted → completed`, times, perSecond));
      loads.push(`after throughput: ${load()}`);
      if (systems.geojobs) await floor(Object.fromEntries(peers.map((peer) => [peer.name, rate(THROUGHPUT_JOBS, median(times[peer.key]))])));
    }
  } finally {
    for (const system of Object.values(systems).reverse()) await system.stop();
    await redis.stop();
    receiver.close();
  }
}

/** This build against BENCH_BASELINE_DIR's, from the same interleaved rounds: time of this one / time of that one. */
function againstBaseline(section: string, what: string, times: Record<string, number[]>, format: (ms: number) => string): Row {
  const ours = median(times.geojobs);
  const theirs = median(times.baseline);
  return {
    section,
    what: `${what}, this build against another (median of ${times.geojobs.length})`,
    geojobs: `${format(ours)} ${spread(times.geojobs, format)}`,
    peer: `geojobs built in ${BASELINE_DIR}`,
    peerFigure: `${format(theirs)} ${spread(times.baseline, format)}`,
    ratio: `${(ours / theirs).toFixed(2)}× the time`,
    target: '—',
    met: null,
  };
}

/**
 * What durability alone costs here (bench/peers/floor.ts), beside the peers' throughput of this run: the messages and the
 * commits a geojobs job needs, without geojobs around them. Rounds alternate between the two, as the sides above.
 */
async function floor(peerRates: Record<string, number>): Promise<void> {
  const messages = THROUGHPUT_JOBS * 3;
  process.stdout.write(`floor: RabbitMQ alone (${messages} messages), PostgreSQL alone (${THROUGHPUT_JOBS} inserts), ${THROUGHPUT_ROUNDS} rounds\n`);
  const times = await interleaved({ rabbitmq: () => rabbitmqAlone(messages), postgresql: () => postgresAlone(THROUGHPUT_JOBS) }, THROUGHPUT_ROUNDS);
  const names = Object.keys(peerRates);
  const peer = names.length ? `${names.join(' / ')} throughput, this run` : '—';
  const peerFigure = names.length ? names.map((name) => `${peerRates[name]}/s`).join(' / ') : '—';
  const ratios = (jobs: number) => (names.length ? names.map((name) => `${(jobs / peerRates[name]).toFixed(2)}×`).join(' / ') : '—');
  const messagesPerSecond = rate(messages, median(times.rabbitmq));
  rows.push({
    section: 'floor',
    what: `RabbitMQ alone: ${messages} persistent messages with publisher confirms through a quorum queue, consumed and acked, messages/s (median of ${THROUGHPUT_ROUNDS}); jobs/s at 3 messages a job (command, started, final) and at 2 (a quick job: command, final)`,
    geojobs: `${messagesPerSecond}/s ${spread(times.rabbitmq, (ms) => `${rate(messages, ms)}/s`)} → ${Math.round(messagesPerSecond / 3)}–${Math.round(messagesPerSecond / 2)} jobs/s`,
    peer,
    peerFigure,
    ratio: ratios(Math.round(messagesPerSecond / 2)),
    target: '— (floor)',
    met: null,
  });
  const insertsPerSecond = rate(THROUGHPUT_JOBS, median(times.postgresql));
  rows.push({
    section: 'floor',
    what: `PostgreSQL alone: ${THROUGHPUT_JOBS} single-row inserts, each committed, from 50 clients, inserts/s (median of ${THROUGHPUT_ROUNDS}); a job needs one insert and one or two updates`,
    geojobs: `${insertsPerSecond}/s ${spread(times.postgresql, (ms) => `${rate(THROUGHPUT_JOBS, ms)}/s`)} → at most ${insertsPerSecond} jobs/s`,
    peer,
    peerFigure,
    ratio: ratios(insertsPerSecond),
    target: '— (floor)',
    met: null,
  });
  loads.push(`after floor: ${load()}`);
}

async function intake(): Promise<void> {
  const { runIntake } = await import('./intake.bench.js');
  const result = await runIntake(INTAKE_SECONDS, 50);
  rows.push({
    section: 'intake',
    what: `POST /jobs, 50 clients, ${INTAKE_SECONDS} s after ${result.warmup.seconds} s of warm-up (bench:intake)`,
    geojobs: `p50 ${result.p50} ms, p99 ${result.p99} ms; ${result.rate} jobs/s accepted, ${result.errors} errors; the warm-up (a gateway just started): p99 ${result.warmup.p99} ms, max ${result.warmup.max} ms`,
    peer: '—',
    peerFigure: '—',
    ratio: '—',
    target: 'p99 < 100 ms',
    met: result.p99 < 100,
  });
  loads.push(`after intake: ${load()}`);
}

async function importSection(): Promise<void> {
  process.stdout.write(`import: ${IMPORT_FEATURES} points, ${IMPORT_ROUNDS} rounds\n`);
  const { rounds, bytes } = await compareImport(IMPORT_FEATURES, IMPORT_ROUNDS);
  const ours = median(rounds.map((round) => round.geojobs));
  const perSecond = (ms: number) => `${rate(IMPORT_FEATURES, ms)}/s`;
  const what = `${IMPORT_FEATURES} points (GeoJSON, ${(bytes / 1e6).toFixed(0)} MB, over HTTP) into PostGIS, features/s (median of ${IMPORT_ROUNDS})`;
  const geojobs = `${perSecond(ours)} = ${s(ours)} ${spread(
    rounds.map((round) => round.geojobs),
    s,
  )}`;
  for (const [key, peer, target] of [
    ['ogr2ogr', 'ogr2ogr /vsicurl/ (COPY) + the Web Mercator index', 1],
    ['insert', 'ogr2ogr /vsicurl/ PG_USE_COPY=NO (INSERT) + the same index', 5],
  ] as const) {
    const theirs = median(rounds.map((round) => round[key]));
    rows.push({
      section: 'import',
      what,
      geojobs,
      peer,
      peerFigure: `${perSecond(theirs)} = ${s(theirs)} ${spread(
        rounds.map((round) => round[key]),
        s,
      )}`,
      ratio: `${(theirs / ours).toFixed(2)}× (speed)`,
      target: `≥ ${target.toFixed(1)}×`,
      met: theirs / ours >= target,
    });
  }
  const last = rounds[rounds.length - 1];
  notes.push(`import: geojobs' steps in the last round: ${last.steps}; geo-service peak RSS ${last.rssMb} MB.`);
  loads.push(`after import: ${load()}`);
}

/** bench:export and bench:convert are other benches' own: run as they are (when they exist), their output kept verbatim. */
async function exportSection(): Promise<void> {
  for (const name of ['export', 'convert']) {
    const script = `dist/bench/${name}.bench.js`;
    if (!existsSync(script)) {
      notes.push(`export: bench:${name} does not exist in this checkout; not run.`);
      continue;
    }
    process.stdout.write(`${name}: node ${script}\n`);
    const output = await new Promise<string>((resolve, reject) => {
      // its comparison at the run's scale; its memory sizes (up to 1M features) are its own bench's business
      const env = {
        ...process.env,
        BENCH_ROUNDS: process.env.BENCH_EXPORT_ROUNDS ?? String(scale(3, 1)),
        BENCH_RSS_SIZES: process.env.BENCH_RSS_SIZES ?? process.env.BENCH_FEATURES,
      };
      const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        process.stdout.write(chunk);
      });
      child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`bench:${name} exited with ${code}`))));
    });
    // the services' own log lines (JSON, e.g. a health check failing while one starts) are not the bench's figures
    const printed = output
      .split('\n')
      .filter((line) => !line.startsWith('{"level":'))
      .join('\n')
      .trim();
    rows.push(...ratioRows(name, printed));
    notes.push(`bench:${name}, as it printed (its own comparison, run in this same run):\n\n\`\`\`\n${printed}\n\`\`\``);
  }
  loads.push(`after export: ${load()}`);
}

/**
 * The table's rows of a bench that prints each comparison on one line ending `ratio 0.36×  (target ≤ 0.70×)` or, for
 * memory, `… 292 MB   (target < 300 MB …`: the line as printed is the figure; met or not is read from its numbers
 * (for memory, the largest size it names).
 */
function ratioRows(name: string, printed: string): Row[] {
  const found: Row[] = [];
  for (const line of printed.split('\n')) {
    const ratio = /ratio[^×]*?([\d.]+)×.*\(target ([≤≥]) ?([\d.]+)×\)/.exec(line);
    const memory = /peak RSS(.*)\(target < (\d+) MB/.exec(line);
    if (!ratio && !memory) continue;
    const figure = line.trim().replace(/\s{2,}/g, '; ');
    const row = { section: 'export', what: `bench:${name}`, geojobs: figure, peer: '(in the line)', peerFigure: '—' };
    if (ratio) {
      const [, value, sign, target] = ratio;
      const met = sign === '≤' ? Number(value) <= Number(target) : Number(value) >= Number(target);
      found.push({ ...row, ratio: `${value}×`, target: `${sign} ${target}×`, met });
    } else {
      const [, sizes, limit] = memory!;
      const peak = Math.max(...[...sizes.matchAll(/(\d+) MB/g)].map(([, megabytes]) => Number(megabytes)));
      found.push({ ...row, ratio: '—', target: `< ${limit} MB`, met: peak < Number(limit) });
    }
  }
  return found;
}

async function tiles(): Promise<void> {
  const { runTiles } = await import('./tiles.bench.js');
  const result = await runTiles();
  const p = (values: number[]) => `p50 ${msText(percentile(values, 50))}, p99 ${msText(percentile(values, 99))}`;
  const cold = percentile(result.cold, 50);
  const bare = percentile(result.bare, 50);
  rows.push({
    section: 'tiles',
    what: `${result.cold.length} tiles, zooms 4–14, ${process.env.BENCH_FEATURES} points, one at a time, interleaved tile by tile`,
    geojobs: `cold ${p(result.cold)}; cached ${p(result.cached)}`,
    peer: 'bare node:http + pg, same prepared statement',
    peerFigure: `${p(result.bare)} (statement direct in PostgreSQL: prepared ${p(result.prepared)}, unprepared ${p(result.unprepared)})`,
    ratio: `${(cold / bare).toFixed(2)}× (cold p50)`,
    target: '≤ 1.1×',
    met: cold / bare <= 1.1,
  });
  loads.push(`after tiles: ${load()}`);
}

async function analytics(): Promise<void> {
  const { runAnalytics } = await import('./analytics.bench.js');
  for (const result of await runAnalytics()) {
    for (const { concurrency, run } of result.singles) {
      const ratio = result.gateway.delivered / run.rate;
      rows.push({
        section: 'analytics',
        what: `${process.env.BENCH_EVENTS} events delivered to a local Mixpanel-compatible server, ${result.latencyMs ? `simulated ${result.latencyMs} ms round trip` : 'loopback'}`,
        geojobs: `${result.gateway.delivered} events/s`,
        peer: `mixpanel package, one track() per event, ${concurrency} in flight${run.sent < Number(process.env.BENCH_EVENTS) ? ` (first ${run.sent} events)` : ''}`,
        peerFigure: `${run.rate} events/s`,
        ratio: `${ratio.toFixed(1)}×`,
        target: result.latencyMs >= 20 ? '≥ 20×' : '— (the target is at 20 ms)',
        met: result.latencyMs >= 20 ? ratio >= 20 : null,
      });
    }
  }
  loads.push(`after analytics: ${load()}`);
}

const quiet = (command: string, args: string[]) => {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    return `unavailable (${(error as Error).message.split('\n')[0]})`;
  }
};

async function versions(): Promise<string[]> {
  const packageVersion = (name: string) => (JSON.parse(readFileSync(join('node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  const db = new pg.Client({ connectionString: benchEnv('GEOJOBS_ADMIN_DATABASE_URL') });
  await db.connect();
  const postgres = (await db.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0].v;
  const postgis = (await db.query<{ v: string }>(`SELECT extversion AS v FROM pg_extension WHERE extname = 'postgis'`)).rows[0]?.v ?? '?';
  await db.end();
  const management = new URL(benchEnv('GEOJOBS_RABBITMQ_MGMT_URL'));
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(management.username)}:${decodeURIComponent(management.password)}`).toString('base64')}`;
  management.username = '';
  management.password = '';
  const overview = (await (await fetch(new URL('/api/overview', management), { headers: { authorization: auth } })).json()) as Record<string, string>;
  const python = quiet(DEBIAN_PYTHON, [
    '-c',
    'import sys, celery, kombu, redis; print(sys.version.split()[0], celery.__version__, kombu.__version__, redis.__version__)',
  ]).split(' ');
  return [
    `geojobs ${(JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version} at commit ${quiet('git', ['rev-parse', '--short', 'HEAD'])}${quiet('git', ['status', '--porcelain']) ? ' (with uncommitted changes)' : ''}`,
    `Node.js ${process.version}`,
    `PostgreSQL ${postgres}, PostGIS ${postgis}`,
    `RabbitMQ ${overview.rabbitmq_version}, Erlang ${overview.erlang_version}`,
    `Redis ${quiet('redis-server', ['--version']).replace(/^Redis server v=(\S+).*$/, '$1')} (Debian's redis-server, a private instance)`,
    `Celery ${python[1]}, kombu ${python[2]}, redis-py ${python[3]} on Python ${python[0]} (Debian's python3-celery)`,
    `BullMQ ${packageVersion('bullmq')}, ioredis ${packageVersion('ioredis')} (npm)`,
    `${quiet('ogr2ogr', ['--version'])}`,
    `mixpanel ${packageVersion('mixpanel')} (npm)`,
  ];
}

function command(): string {
  const settings = Object.entries(process.env)
    .filter(([name]) => /^(BENCH_|GEOJOBS_BENCH_)/.test(name) && !['BENCH_FEATURES', 'BENCH_TILES', 'BENCH_EVENTS'].includes(name))
    .map(([name, value]) => `${name}=${value}`);
  if (process.env.npm_lifecycle_event === 'bench:peers') return [...settings.sort(), 'npm run bench:peers'].join(' ');
  // started by hand on servers already up (as scripts/with-infra.sh starts them, without its setup step)
  const infra = ['GEOJOBS_DATA_DIR', 'GEOJOBS_PG_PORT', 'GEOJOBS_AMQP_PORT', 'GEOJOBS_RABBITMQ_MGMT_PORT', 'GEOJOBS_RABBITMQ_DIST_PORT']
    .filter((name) => process.env[name])
    .map((name) => `${name}=${process.env[name]}`);
  return `${[...infra, ...settings.sort()].join(' ')} bash -c 'bash scripts/infra.sh up && eval "$(bash scripts/infra.sh env)" && node dist/bench/peers.bench.js'`;
}

function markdown(started: Date, seconds: number, startLoad: string, versionList: string[]): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const table = [
    '| comparison | geojobs | peer | peer figure | geojobs / peer | target | met |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| **${row.section}**: ${cell(row.what)} | ${cell(row.geojobs)} | ${cell(row.peer)} | ${cell(row.peerFigure)} | ${row.ratio} | ${row.target} | ${row.met === null ? '—' : row.met ? 'yes' : '**no**'} |`,
    ),
  ];
  return [
    '# Benchmarks: geojobs side by side with Celery, BullMQ, ogr2ogr and the mixpanel package',
    '',
    `Written by \`npm run bench:peers\` (bench/peers.bench.ts) on ${started.toISOString()}, in ${(seconds / 60).toFixed(1)} minutes${QUICK ? ' — QUICK SCALE, not the published figures' : ''}.`,
    'Every figure below comes from this one run: the sides of each comparison ran alternately, round by round (each first in turn), on the same',
    'PostgreSQL, RabbitMQ and Redis; figures are medians, with each round in brackets. Ratios are geojobs / peer (for the import, speed ratios: the',
    "peer's time over geojobs'; for a floor row, the jobs/s that durability alone allows over the peer's). The machine is shared and noisy:",
    "compare within a row, not with another day's table. The floor rows (run with throughput) are RabbitMQ and PostgreSQL alone doing what a",
    'geojobs job needs of them, without geojobs: what no build of geojobs can pass on this machine.',
    '',
    '## Command',
    '',
    '```',
    command(),
    '```',
    '',
    `Sections run: ${only.join(', ')} (\`BENCH_ONLY=…\` for a subset, \`BENCH_QUICK=1\` for a small scale, \`BENCH_SIDES=…\` for some sides only).`,
    '',
    '## Machine',
    '',
    `- ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory`,
    `- load average (1, 5, 15 min) at the start: ${startLoad}; ${loads.join('; ')}`,
    '',
    '## Versions',
    '',
    ...versionList.map((line) => `- ${line}`),
    '',
    '## Results',
    '',
    ...table,
    '',
    '## How each side runs',
    '',
    '- **geojobs**: the built gateway and geo-service as processes (`GEOJOBS_PREFETCH=500` on geo-service, as bench:saga), a fresh migrated',
    '  database and a vhost of their own. A saga is `POST /jobs {type: noop, input: {service: geo, children: N}}` with a webhook followup;',
    "  independent jobs are `POST /jobs` from 50 concurrent clients (undici's `request`, keep-alive), completion read from `jobs.jobs` every 10 ms (no",
    '  unfinished job left, then all of them succeeded).',
    '- **Celery**: `celery -A tasks worker` (bench/peers/celery/tasks.py; default prefork pool, one process per core, default prefetch) on a',
    '  vhost of the same RabbitMQ, results in the private Redis (db 1). The chord is `chord(noop.s() × N)(callback.s(url))`; the callback',
    "  POSTs to the same webhook receiver. Independent tasks are `apply_async` in one loop (Celery's client is synchronous); completion is",
    "  the result backend's key count, polled every 10 ms.",
    '- **BullMQ**: a worker process (bench/peers/bullmq-worker.ts, concurrency 100) on the private Redis (db 0). The fan-out is a',
    '  FlowProducer flow of N children whose parent job POSTs to the webhook receiver; independent jobs are `Queue.add` from 50 concurrent',
    '  callers, completion the completed count, polled every 10 ms.',
    '- **ogr2ogr**: `ogr2ogr -f PostgreSQL PG:… /vsicurl/http://…/points.geojson -nln … -lco SCHEMA=layers` (COPY; `--config PG_USE_COPY NO`',
    "  for the INSERT path) as the geo role, then `CREATE INDEX … USING gist (ST_Transform(wkb_geometry, 3857)) WHERE …`, geo-service's",
    "  statement with its `maintenance_work_mem` (256MB); geojobs' time is the whole geopreview job (download, import, clean, both indexes,",
    '  describe, swap), publish → `job.succeeded`.',
    '- **tiles** and **analytics** are bench:tiles and bench:analytics, run in this process; see their headers for the details.',
    '',
    ...(notes.length ? ['## Notes', '', ...notes.map((note) => `- ${note}`), ''] : []),
    // what the profiles of the shortfalls found, kept by hand beside the bench
    ...(existsSync(FINDINGS) ? [readFileSync(FINDINGS, 'utf8').trim(), ''] : []),
  ].join('\n');
}

const started = new Date();
const startLoad = load();
execFileSync('bash', ['bench/peers/install.sh'], { stdio: 'inherit' });
const versionList = await versions();
const write = () =>
  writeFileSync(process.env.BENCH_OUTPUT ?? 'BENCHMARKS.md', `${markdown(started, (Date.now() - started.getTime()) / 1000, startLoad, versionList)}\n`);
const runs: [boolean, string, () => Promise<void>][] = [
  [only.includes('fanout') || only.includes('throughput'), 'fan-out and throughput', queueSystems],
  [only.includes('intake'), 'intake', intake],
  [only.includes('import'), 'import', importSection],
  [only.includes('export'), 'export', exportSection],
  [only.includes('tiles'), 'tiles', tiles],
  [only.includes('analytics'), 'analytics', analytics],
];
let failures = 0;
for (const [wanted, name, section] of runs) {
  if (!wanted) continue;
  // a section that fails is named in the notes, and the others still run: the file is rewritten after each
  await section().catch((error: Error) => {
    failures++;
    notes.push(`${name}: FAILED in this run — ${error.message.split('\n')[0]}`);
    console.error(error);
  });
  write();
}
process.stdout.write(`\n${readFileSync(process.env.BENCH_OUTPUT ?? 'BENCHMARKS.md', 'utf8')}`);
process.exitCode = failures > 0 ? 1 : 0;
