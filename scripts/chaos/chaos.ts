/**
 * The chaos suite (`npm run test:chaos`, and its quick version in `npm test`): the whole system as production runs it —
 * PostgreSQL, a RabbitMQ cluster, two copies of each service as separate processes — takes a steady stream of `noop`
 * jobs and sagas with followup webhooks while service copies are killed with SIGKILL, a RabbitMQ node is killed and
 * restarted, the whole cluster is stopped and started, PostgreSQL restarts and a poison message lands in every queue.
 * Then it counts, from the database, a local webhook receiver and the management API, what was lost or done twice.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import pg from 'pg';
import { HEADERS, QUEUES, SERVICES, deadLetterQueueOf } from '../../libs/shared/src/contracts/routing.js';
import { FollowupReceiver } from './receiver.js';
import { SERVICE_NAMES, ServiceCopy } from './fleet.js';

const run = promisify(execFile);

export interface ChaosOptions {
  /** The repository (dist/ must be built). */
  root: string;
  /** Data folder of this run's PostgreSQL, RabbitMQ, storage and logs. */
  dataDir: string;
  /**
   * Every port of the run is this plus an offset: gateways +0/+1, geo +2/+3, export +4/+5, analytics +6/+7, the
   * webhook receiver +9, Firebird +50, PostgreSQL +32, RabbitMQ node n AMQP/management/distribution +72/+73/+74 plus
   * 10 × (n − 1).
   */
  portBase: number;
  databaseName: string;
  rabbitmqNodes: number;
  /** Plain `noop` jobs, and sagas of `sagaChildren` subtasks each with a merge step and a followup webhook. */
  jobs: number;
  sagas: number;
  sagaChildren: number;
  /** Jobs submitted per second (in bulk requests of a tenth of that, ten times a second). */
  jobsPerSecond: number;
  /** A random service copy is killed this often while jobs are submitted (0: never). */
  serviceKillEveryMs: number;
  /** How long a killed RabbitMQ node stays down, and the whole cluster (0: no cluster outage). */
  nodeDownMs: number;
  clusterDownMs: number;
  /** How long PostgreSQL stays down. */
  postgresDownMs: number;
  /** Retry tiers of the services (GEOJOBS_RETRY_DELAYS_MS). */
  retryDelaysMs: readonly number[];
  /** Longest wait, after the last submission, for every job to end and every followup to fire. */
  settleTimeoutMs: number;
  /** Leave PostgreSQL and RabbitMQ running at the end. */
  keepInfra: boolean;
  log: (line: string) => void;
}

export interface ChaosReport {
  jobs: { submitted: number; succeeded: number; lost: number; duplicated: number };
  sagas: { submitted: number; mergedOnce: number };
  followups: { expected: number; firedOnce: number; firedTwice: number };
  /** What went wrong besides the counts above: a queue not drained, the outbox not empty, a wrong 503. */
  problems: string[];
  events: string[];
  durationMs: number;
  ok: boolean;
}

/** The one line the suite prints. */
export function summaryLine(report: ChaosReport): string {
  const { jobs, sagas, followups } = report;
  return (
    `jobs ${jobs.submitted} succeeded ${jobs.succeeded} lost ${jobs.lost} duplicated ${jobs.duplicated}; ` +
    `sagas ${sagas.submitted} merged-once ${sagas.mergedOnce}; followups ${followups.expected} fired-once ${followups.firedOnce}`
  );
}

const FINAL_STATES = ['succeeded', 'failed', 'cancelled'];
const WORK_QUEUES = Object.values(QUEUES);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

interface JobRequest {
  type: 'noop';
  input: Record<string, unknown>;
  idempotencyKey: string;
  followups?: { onSuccess: { type: 'webhook'; url: string }[] };
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const runId = randomUUID().slice(0, 8);
  // The gateway creates its first admin only when no user of that name exists: a new one for every run.
  const admin = { username: `chaos-${runId}`, password: randomUUID() };
  const events: string[] = [];
  const problems: string[] = [];
  const note = (line: string) => {
    const stamped = `+${((Date.now() - started) / 1000).toFixed(1)}s ${line}`;
    events.push(stamped);
    options.log(stamped);
  };

  const port = (offset: number) => options.portBase + offset;
  const infraEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    GEOJOBS_DATA_DIR: options.dataDir,
    GEOJOBS_DB_NAME: options.databaseName,
    GEOJOBS_PG_PORT: String(port(32)),
    GEOJOBS_AMQP_PORT: String(port(72)),
    GEOJOBS_RABBITMQ_MGMT_PORT: String(port(73)),
    GEOJOBS_RABBITMQ_DIST_PORT: String(port(74)),
    GEOJOBS_RABBITMQ_NODES: String(options.rabbitmqNodes),
    GEOJOBS_RABBITMQ_PORT_STEP: '10',
    GEOJOBS_FIREBIRD_PORT: String(port(50)),
  };
  const infra = async (...args: string[]): Promise<string> =>
    (await run('bash', [join(options.root, 'scripts', 'infra.sh'), ...args], { env: infraEnv, maxBuffer: 16 * 1024 * 1024 })).stdout;

  note(`starting PostgreSQL and ${options.rabbitmqNodes} RabbitMQ node(s) in ${options.dataDir}`);
  await infra('up');
  const env = Object.fromEntries(
    [...(await infra('env')).matchAll(/^export ([A-Z0-9_]+)='(.*)'$/gm)].map(([, name, value]) => [name, value] as [string, string]),
  );
  await run(process.execPath, [join(options.root, 'dist', 'scripts', 'migrate.js')], { env: { ...infraEnv, ...env } });

  const management = new Management(env.GEOJOBS_RABBITMQ_MGMT_URLS.split(','));
  await management.purgeAll(); // queues start empty, whatever an earlier run left there
  const database = new pg.Pool({ connectionString: env.GEOJOBS_ADMIN_DATABASE_URL, max: 2 });
  database.on('error', () => undefined); // PostgreSQL restarts mid-run; a query then fails and is tried again
  const receiver = await FollowupReceiver.listen(port(9));

  const logDir = join(options.dataDir, 'log', `chaos-${runId}`);
  mkdirSync(logDir, { recursive: true });
  const serviceEnv: Record<string, string> = {
    ...env,
    PATH: process.env.PATH ?? '',
    GEOJOBS_HTTP_HOST: '127.0.0.1',
    GEOJOBS_STORAGE_DIR: join(options.dataDir, 'storage'),
    GEOJOBS_LOG_LEVEL: 'warn',
    GEOJOBS_ALLOWED_HOSTS: '127.0.0.1', // the followup webhooks go to the local receiver
    GEOJOBS_ADMIN_USER: admin.username,
    GEOJOBS_ADMIN_PASSWORD: admin.password,
    GEOJOBS_TOKEN_TTL_SECONDS: '86400',
    GEOJOBS_RETRY_DELAYS_MS: options.retryDelaysMs.join(','),
  };
  const copies = SERVICE_NAMES.flatMap((service, index) =>
    [1, 2].map((copy) => new ServiceCopy(service, copy, port(index * 2 + copy - 1), options.root, serviceEnv, logDir, 1_000)),
  );
  const gateways = copies.filter((copy) => copy.service === 'gateway');
  // Interrupted (Ctrl-C): no service copy outlives the run.
  const interrupted = () => {
    for (const copy of copies) copy.abandon();
    process.exit(130);
  };
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);

  let report: ChaosReport | undefined;
  try {
    // The first gateway creates the admin before the others start.
    gateways[0].start();
    await waitUntil(() => gateways[0].healthy(), 60_000, 'the first gateway to start');
    for (const copy of copies.slice(1)) copy.start();
    await waitUntil(async () => (await Promise.all(copies.map((copy) => copy.healthy()))).every(Boolean), 90_000, 'every service copy to start');
    note(`${copies.length} service copies healthy (logs in ${logDir})`);

    const api = new Api(
      gateways.map((gateway) => gateway.url),
      admin,
    );
    await api.login();

    const windowMs = (options.jobs / options.jobsPerSecond) * 1_000;
    const runStarted = Date.now();
    const at = (fraction: number) => sleep(runStarted + fraction * windowMs - Date.now());

    // Submissions: a bulk request every 100 ms, and the sagas spread over the same window.
    const submissions: Promise<void>[] = [];
    const perTick = Math.max(1, Math.round(options.jobsPerSecond / 10));
    const submitting = (async () => {
      const hook = (key: string) => ({ type: 'webhook' as const, url: `http://127.0.0.1:${port(9)}/followup/${key}` });
      let sagasSent = 0;
      const submitSaga = () => {
        const key = `${runId}:saga:${sagasSent}`;
        const service = SERVICES[sagasSent % SERVICES.length];
        const saga = { service, children: options.sagaChildren, merge: { service: 'export' } };
        submissions.push(api.submit([{ type: 'noop', input: saga, idempotencyKey: key, followups: { onSuccess: [hook(key)] } }]));
        sagasSent++;
      };
      for (let sent = 0; sent < options.jobs; sent += perTick) {
        const batch: JobRequest[] = [];
        for (let index = sent; index < Math.min(options.jobs, sent + perTick); index++) {
          batch.push({ type: 'noop', input: { service: SERVICES[index % SERVICES.length], sleepMs: index % 20 }, idempotencyKey: `${runId}:job:${index}` });
        }
        submissions.push(api.submit(batch));
        while (sagasSent < options.sagas && sagasSent * options.jobs <= sent * options.sagas) submitSaga();
        await sleep(runStarted + ((sent + perTick) / options.jobsPerSecond) * 1_000 - Date.now());
      }
      while (sagasSent < options.sagas) submitSaga();
      await Promise.all(submissions);
    })();

    // Service copies killed at random with SIGKILL; their supervisor starts them again.
    let killing = options.serviceKillEveryMs > 0;
    let killsPaused = false;
    let kills = 0;
    const killer = (async () => {
      while (killing) {
        await sleep(options.serviceKillEveryMs);
        if (!killing || killsPaused) continue;
        const victim = copies[Math.floor(Math.random() * copies.length)];
        if (victim.pid === undefined) continue;
        note(`kill -9 ${victim.name} (pid ${victim.pid})`);
        victim.kill();
        kills++;
      }
    })();

    const timeline = (async () => {
      await at(0.05);
      await publishPoison(env.GEOJOBS_AMQP_URL.split(','), runId);
      note(`published a poison message into each of ${WORK_QUEUES.join(', ')}`);

      await at(0.2);
      killsPaused = true; // PostgreSQL's restart is survived by the same processes: no copy dies meanwhile
      const pids = new Map(gateways.map((gateway) => [gateway.url, gateway.pid]));
      note('stopping PostgreSQL');
      await infra('down', 'postgres');
      const outage = await api.probeOutage();
      note(`API while PostgreSQL is down: ${outage.status} "${outage.message}"`);
      if (outage.status !== 503 || !/database is unavailable/.test(outage.message))
        problems.push(`while PostgreSQL was down the API answered ${outage.status} "${outage.message}", not 503 naming the database`);
      await sleep(options.postgresDownMs);
      await infra('up', 'postgres');
      note('PostgreSQL started again');
      // A gateway that lived through the outage (not one the supervisor restarted meanwhile) must answer again.
      const survivors = gateways.filter((gateway) => gateway.pid !== undefined && gateway.pid === pids.get(gateway.url)).map((gateway) => gateway.url);
      const recovered = await api.waitForRecovery(survivors, 60_000);
      if (recovered) note(`the API answers again (${recovered}, the same process as before the outage)`);
      else problems.push('no gateway that lived through the PostgreSQL restart answered again within 60 s');
      killsPaused = false;

      await at(0.35);
      const node = 1 + Math.floor(Math.random() * options.rabbitmqNodes);
      const beam = rabbitPid(options.dataDir, options.rabbitmqNodes, node);
      note(`kill -9 RabbitMQ node ${node} (pid ${beam})`);
      process.kill(beam, 'SIGKILL');
      await sleep(options.nodeDownMs);
      await infra('up', `rabbitmq-${node}`);
      note(`RabbitMQ node ${node} started again`);

      if (options.clusterDownMs > 0) {
        await at(0.6);
        note('stopping the whole RabbitMQ cluster');
        await infra('down', 'rabbitmq');
        await sleep(options.clusterDownMs);
        note(`starting the RabbitMQ cluster after ${options.clusterDownMs / 1000} s`);
        await infra('up', 'rabbitmq');
        note('RabbitMQ cluster up');
      }
    })();

    await Promise.all([submitting, timeline]);
    killing = false;
    await killer;
    note(
      `submitted ${options.jobs} jobs and ${options.sagas} sagas (${api.retries} requests tried again: ${api.retryReasons()}); ${kills} service copies killed`,
    );

    await waitUntil(async () => (await Promise.all(copies.map((copy) => copy.healthy()))).every(Boolean), 120_000, 'every service copy to be healthy');
    const sagaKeys = Array.from({ length: options.sagas }, (_, index) => `${runId}:saga:${index}`);
    let progress = Date.now();
    await waitUntil(
      async () => {
        const state = await settledState(database, runId);
        const fired = state.sagaIds.filter((id) => receiver.deliveries.has(id)).length;
        if (Date.now() - progress > 10_000) {
          progress = Date.now();
          note(
            `settling: ${state.final}/${options.jobs} jobs final, ${state.sagasFinal}/${options.sagas} sagas final, ${fired} followups, outbox ${state.outbox}`,
          );
        }
        return state.final === options.jobs && state.sagasFinal === options.sagas && fired === options.sagas && state.outbox === 0;
      },
      options.settleTimeoutMs,
      'every job and saga to end and every followup to fire',
    ).catch((error: Error) => problems.push(error.message));
    await sleep(3_000); // a second delivery of a followup or a late transition would show now

    const jobs = await countJobs(database, runId, options.jobs);
    const sagas = await countSagas(database, runId, options.sagaChildren);
    const sagaIds = sagas.ids;
    const firedOnce = sagaIds.filter((id) => receiver.deliveries.get(id) === 1).length;
    const firedTwice = sagaIds.filter((id) => (receiver.deliveries.get(id) ?? 0) > 1).length;
    if (sagaKeys.length !== sagaIds.length) problems.push(`${sagaKeys.length - sagaIds.length} sagas have no job`);
    const outbox = Number((await database.query<{ count: string }>('SELECT count(*) FROM jobs.outbox')).rows[0].count);
    if (outbox !== 0) problems.push(`the outbox still holds ${outbox} messages`);
    problems.push(...(await management.checkQueues(runId)));
    if (jobs.succeeded !== options.jobs) problems.push(`${options.jobs - jobs.succeeded} jobs did not succeed`);
    if (firedTwice > 0) problems.push(`${firedTwice} followups fired more than once`);

    report = {
      jobs: { submitted: options.jobs, ...jobs },
      sagas: { submitted: options.sagas, mergedOnce: sagas.mergedOnce },
      followups: { expected: options.sagas, firedOnce, firedTwice },
      problems,
      events,
      durationMs: Date.now() - started,
      ok: false,
    };
    report.ok = problems.length === 0 && jobs.lost === 0 && jobs.duplicated === 0 && sagas.mergedOnce === options.sagas && firedOnce === options.sagas;
    return report;
  } finally {
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
    await Promise.all(copies.map((copy) => copy.stop()));
    await receiver.close();
    await database.end();
    if (!options.keepInfra) await infra('down').catch((error: Error) => options.log(`could not stop the servers: ${error.message}`));
  }
}

/** Waits until `probe` is true; throws naming `what` after `timeoutMs`. A probe that throws counts as false. */
async function waitUntil(probe: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await Promise.resolve(probe()).catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(500);
  }
}

/** The broker's own pid of node `node`, from the pid file infra.sh gives it. */
function rabbitPid(dataDir: string, nodes: number, node: number): number {
  const folder = nodes > 1 ? `rabbitmq-${node}` : 'rabbitmq';
  return Number(readFileSync(join(dataDir, folder, 'rabbitmq.pid'), 'utf8').trim());
}

/** A message no consumer can read (not JSON), straight into each work queue through the default exchange. */
async function publishPoison(urls: string[], runId: string): Promise<void> {
  let lastError: unknown;
  for (const url of urls) {
    try {
      const connection = await amqp.connect(url);
      try {
        const channel = await connection.createConfirmChannel();
        for (const queue of WORK_QUEUES) {
          channel.publish('', queue, Buffer.from(`{"poison": ${runId}`), { messageId: `poison-${runId}-${queue}`, persistent: true });
        }
        await channel.waitForConfirms();
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError instanceof Error ? lastError : new Error('no RabbitMQ node took the poison messages');
}

async function settledState(database: pg.Pool, runId: string): Promise<{ final: number; sagasFinal: number; sagaIds: string[]; outbox: number }> {
  const { rows } = await database.query<{ final: string; sagas_final: string; saga_ids: string[] | null; outbox: string }>(
    `SELECT count(*) FILTER (WHERE idempotency_key LIKE $1 AND state = ANY($3)) AS final,
            count(*) FILTER (WHERE idempotency_key LIKE $2 AND state = ANY($3)) AS sagas_final,
            array_agg(id::text) FILTER (WHERE idempotency_key LIKE $2) AS saga_ids,
            (SELECT count(*) FROM jobs.outbox) AS outbox
       FROM jobs.jobs WHERE idempotency_key LIKE $1 OR idempotency_key LIKE $2`,
    [`${runId}:job:%`, `${runId}:saga:%`, FINAL_STATES],
  );
  const row = rows[0];
  return { final: Number(row.final), sagasFinal: Number(row.sagas_final), sagaIds: row.saga_ids ?? [], outbox: Number(row.outbox) };
}

/**
 * The plain jobs: how many succeeded; lost = submitted but not in a final state (or not there at all); duplicated =
 * a job that entered a final state more than once (job_transitions records every state change, written by trigger).
 */
async function countJobs(database: pg.Pool, runId: string, submitted: number): Promise<{ succeeded: number; lost: number; duplicated: number }> {
  const { rows } = await database.query<{ rows: string; succeeded: string; final: string; duplicated: string }>(
    `SELECT count(*) AS rows,
            count(*) FILTER (WHERE j.state = 'succeeded') AS succeeded,
            count(*) FILTER (WHERE j.state = ANY($2)) AS final,
            count(*) FILTER (WHERE (SELECT count(*) FROM jobs.job_transitions t WHERE t.job_id = j.id AND t.state = ANY($2)) > 1) AS duplicated
       FROM jobs.jobs j WHERE j.idempotency_key LIKE $1`,
    [`${runId}:job:%`, FINAL_STATES],
  );
  const row = rows[0];
  return {
    succeeded: Number(row.succeeded),
    lost: submitted - Number(row.final),
    duplicated: Number(row.duplicated) + Math.max(0, Number(row.rows) - submitted),
  };
}

/**
 * A saga merged once: it succeeded, its merge job is recorded, it has its subtasks plus exactly one merge job, all of
 * them succeeded, and neither it nor any of them entered a final state twice.
 */
async function countSagas(database: pg.Pool, runId: string, children: number): Promise<{ ids: string[]; mergedOnce: number }> {
  const { rows } = await database.query<{ id: string; merged_once: boolean }>(
    `SELECT p.id::text,
            p.state = 'succeeded' AND s.merge_job_id IS NOT NULL
              AND (SELECT count(*) FROM jobs.jobs c WHERE c.parent_id = p.id) = $3 + 1
              AND (SELECT count(*) FROM jobs.jobs c WHERE c.parent_id = p.id AND c.state = 'succeeded') = $3 + 1
              AND (SELECT count(*) FROM jobs.job_transitions t WHERE t.job_id = p.id AND t.state = ANY($2)) = 1
              AND (SELECT count(*) FROM jobs.job_transitions t JOIN jobs.jobs c ON c.id = t.job_id
                    WHERE c.parent_id = p.id AND t.state = ANY($2)) = $3 + 1 AS merged_once
       FROM jobs.jobs p LEFT JOIN jobs.sagas s ON s.job_id = p.id
      WHERE p.idempotency_key LIKE $1`,
    [`${runId}:saga:%`, FINAL_STATES, children],
  );
  return { ids: rows.map((row) => row.id), mergedOnce: rows.filter((row) => row.merged_once).length };
}

/** The gateways' API, as a portal uses it: any live copy, a request tried again (same idempotency keys) until taken. */
class Api {
  private token = '';
  private next = 0;
  retries = 0;
  private readonly reasons = new Map<string, number>();

  constructor(
    private readonly bases: string[],
    private readonly admin: { username: string; password: string },
  ) {}

  retryReasons(): string {
    return [...this.reasons].map(([reason, count]) => `${count}× ${reason}`).join(', ') || 'none';
  }

  async login(): Promise<void> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const response = await this.request('POST', '/token', this.admin, false).catch(() => undefined);
      if (response?.ok) {
        this.token = ((await response.json()) as { access_token: string }).access_token;
        return;
      }
      if (Date.now() > deadline) throw new Error(`could not log in as ${this.admin.username}: ${response?.status ?? 'no answer'}`);
      await sleep(500);
    }
  }

  async submit(batch: JobRequest[]): Promise<void> {
    for (;;) {
      let reason: string;
      try {
        const response = await this.request('POST', '/jobs', batch);
        if (response.ok) return;
        reason = String(response.status);
        if (response.status === 401) await this.login();
        else if (response.status === 429) await sleep(1_000 * Number(response.headers.get('retry-after') ?? '1'));
        else if (response.status >= 400 && response.status < 500) throw new Error(`POST /jobs answered ${response.status}: ${await response.text()}`);
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('POST /jobs answered')) throw error;
        reason = 'no answer';
      }
      this.retries++;
      this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
      await sleep(250);
    }
  }

  /** What the API answers a submission while PostgreSQL is down, from whichever gateway answers. */
  async probeOutage(): Promise<{ status: number; message: string }> {
    for (let tries = 0; tries < 100; tries++) {
      const response = await this.request('POST', '/jobs', { type: 'noop', input: { service: 'geo' } }).catch(() => undefined);
      if (response) {
        const body = (await response.json().catch(() => ({}))) as { message?: string };
        return { status: response.status, message: body.message ?? '' };
      }
      await sleep(100);
    }
    return { status: 0, message: 'no gateway answered' };
  }

  /** Waits until one of these gateways answers GET /jobs with 200 again; returns its address ('' if none did). */
  async waitForRecovery(bases: string[], timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && bases.length > 0) {
      for (const base of bases) {
        const response = await fetch(`${base}/jobs?limit=1`, { headers: { authorization: `Bearer ${this.token}` }, signal: AbortSignal.timeout(5_000) }).catch(
          () => undefined,
        );
        if (response?.ok) return base;
      }
      await sleep(250);
    }
    return '';
  }

  private request(method: string, path: string, body: unknown, authorized = true): Promise<Response> {
    const base = this.bases[this.next++ % this.bases.length];
    return fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(authorized ? { authorization: `Bearer ${this.token}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  }
}

interface QueueStats {
  name: string;
  messages_ready?: number;
  messages_unacknowledged?: number;
}

interface PeekedMessage {
  properties: { message_id?: string; headers?: Record<string, unknown> };
}

/** RabbitMQ's management API, through the first node that answers (each answers for the whole cluster). */
class Management {
  private readonly bases: { origin: string; authorization: string }[];

  constructor(urls: string[]) {
    this.bases = urls.map((url) => {
      const parsed = new URL(url);
      const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
      return { origin: parsed.origin, authorization: `Basic ${Buffer.from(credentials).toString('base64')}` };
    });
  }

  async purgeAll(): Promise<void> {
    for (const queue of await this.request<QueueStats[]>('GET', '/api/queues/%2F')) {
      await this.request('DELETE', `/api/queues/%2F/${encodeURIComponent(queue.name)}/contents`);
    }
  }

  /**
   * Every queue empty and nothing unacknowledged, but for each work queue's dead-letter queue holding exactly its
   * poison message, dead-lettered as malformed. The statistics lag a few seconds: tried again for up to 30 s.
   */
  async checkQueues(runId: string): Promise<string[]> {
    let problems: string[];
    const deadline = Date.now() + 30_000;
    do {
      problems = [];
      const queues = await this.request<QueueStats[]>('GET', '/api/queues/%2F?columns=name,messages_ready,messages_unacknowledged');
      for (const queue of queues) {
        const expected = WORK_QUEUES.some((work) => deadLetterQueueOf(work) === queue.name) ? 1 : 0;
        if ((queue.messages_unacknowledged ?? 0) !== 0) problems.push(`${queue.name}: ${queue.messages_unacknowledged} messages unacknowledged`);
        if ((queue.messages_ready ?? 0) !== expected) problems.push(`${queue.name}: ${queue.messages_ready} messages ready, ${expected} expected`);
      }
      for (const queue of WORK_QUEUES) {
        const dlq = deadLetterQueueOf(queue);
        const peeked = await this.request<PeekedMessage[]>('POST', `/api/queues/%2F/${dlq}/get`, { count: 10, ackmode: 'ack_requeue_true', encoding: 'auto' });
        const poison = peeked.find((message) => message.properties.message_id === `poison-${runId}-${queue}`);
        if (!poison) problems.push(`${dlq}: the poison message is not there`);
        else if (poison.properties.headers?.[HEADERS.reason] !== 'malformed') {
          problems.push(`${dlq}: the poison message was dead-lettered as ${String(poison.properties.headers?.[HEADERS.reason])}, not malformed`);
        }
        for (const other of peeked.filter((message) => message !== poison)) {
          problems.push(`${dlq}: also holds ${other.properties.message_id} (${String(other.properties.headers?.[HEADERS.error])})`);
        }
      }
      if (problems.length === 0) return [];
      await sleep(2_000);
    } while (Date.now() < deadline);
    return problems;
  }

  private async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    let failure: unknown;
    for (const base of this.bases) {
      try {
        const response = await fetch(`${base.origin}${path}`, {
          method,
          headers: { authorization: base.authorization, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
        if (!response.ok) throw new Error(`${method} ${path}: ${response.status}`);
        const text = await response.text();
        return (text ? JSON.parse(text) : undefined) as T;
      } catch (error) {
        failure = error;
      }
    }
    throw failure instanceof Error ? failure : new Error(`${method} ${path} failed on every node`);
  }
}
