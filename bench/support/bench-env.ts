/**
 * What every benchmark needs around the thing it measures: the servers that `scripts/with-infra.sh` started
 * (their URLs in the environment), a fresh vhost and database of its own, and built services as processes.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { serviceNodeArgs, serviceProcessEnv } from '../../libs/shared/src/bootstrap/node-args.js';
import { freePort, waitFor } from '../../libs/testing/src/index.js';

export const benchEnv = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the benchmark through its npm script (scripts/with-infra.sh)`);
  return value;
};

export const withDatabase = (url: string, database: string): string => {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
};

async function management(method: string, path: string, body?: unknown): Promise<void> {
  const base = new URL(benchEnv('GEOJOBS_RABBITMQ_MGMT_URL'));
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`;
  base.username = '';
  base.password = '';
  await fetch(new URL(path, base), {
    method,
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** A new vhost (names are never reused: quorum queues of a deleted one take a moment to go); its AMQP URL. */
export async function freshVhost(prefix: string): Promise<{ url: string; remove: () => Promise<void> }> {
  const name = `${prefix}_${randomUUID().slice(0, 8)}`;
  await management('PUT', `/api/vhosts/${name}`, {});
  await management('PUT', `/api/permissions/${name}/${new URL(benchEnv('GEOJOBS_AMQP_URL')).username}`, { configure: '.*', write: '.*', read: '.*' });
  const url = new URL(benchEnv('GEOJOBS_AMQP_URL'));
  url.pathname = `/${name}`;
  return { url: url.toString(), remove: () => management('DELETE', `/api/vhosts/${name}`) };
}

/** Runs `fn` with the URL of a vhost of its own, deleted afterwards. */
export async function withVhost<T>(prefix: string, fn: (url: string) => Promise<T>): Promise<T> {
  const vhost = await freshVhost(prefix);
  try {
    return await fn(vhost.url);
  } finally {
    await vhost.remove();
  }
}

/** A new database, migrated by the build in `root`; dropped by `remove`. */
export async function freshDatabase(name: string, root = process.cwd()): Promise<{ name: string; remove: () => Promise<void> }> {
  const admin = new pg.Client({ connectionString: benchEnv('GEOJOBS_ADMIN_DATABASE_URL') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  execFileSync('node', [join(root, 'dist/scripts/migrate.js')], {
    env: { ...process.env, GEOJOBS_ADMIN_DATABASE_URL: withDatabase(benchEnv('GEOJOBS_ADMIN_DATABASE_URL'), name) },
    stdio: 'ignore',
  });
  return {
    name,
    remove: async () => {
      const client = new pg.Client({ connectionString: benchEnv('GEOJOBS_ADMIN_DATABASE_URL') });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface BenchService {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** BENCH_NODE_ARGS, which reach the node of every server a benchmark spawns (e.g. `--cpu-prof` to profile it under load), after the service's own (SERVICE_NODE_ARGS). */
export const benchNodeArgs = (): string[] => (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** Stops a spawned server (SIGTERM) and resolves once it has exited. */
export const stopProcess = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
};

/**
 * A built service as its own process; resolves once its /health says up. Every service of a benchmark shares one
 * storage folder under the bench data folder (as on one machine), not the default `.data/storage`. `root`: the
 * checkout whose build runs (another one's, to compare two builds in one run).
 */
export async function startBenchService(app: string, portVariable: string, env: Record<string, string>, root = process.cwd()): Promise<BenchService> {
  const port = await freePort();
  const child = spawn(process.execPath, [...serviceNodeArgs(app), ...benchNodeArgs(), join(root, `dist/apps/${app}/src/main.js`)], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      ...serviceProcessEnv(app),
      GEOJOBS_LOG_LEVEL: 'warn',
      GEOJOBS_STORAGE_DIR: join(benchEnv('GEOJOBS_DATA_DIR'), 'storage'),
      ...env,
      [portVariable]: String(port),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const outcome = await waitFor(async () => (child.exitCode !== null ? 'exited' : (await fetch(`${url}/health`)).ok && 'healthy'), `${app} to become healthy`, {
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  if (outcome === 'exited') throw new Error(`${app} exited with ${child.exitCode}`);
  return { url, process: child, stop: () => stopProcess(child) };
}

/** The admin every benchmark's gateway starts with. */
const BENCH_ADMIN = { username: 'bench-admin', password: 'bench admin password' };

/** The gateway on this vhost and database, with the bench admin: its URL, process and an admin bearer token. */
export async function startBenchGateway(
  amqpUrl: string,
  database: string,
  env: Record<string, string> = {},
  root = process.cwd(),
): Promise<BenchService & { token: string }> {
  const gateway = await startBenchService(
    'gateway',
    'GEOJOBS_GATEWAY_PORT',
    {
      GEOJOBS_AMQP_URL: amqpUrl,
      GEOJOBS_GATEWAY_DATABASE_URL: withDatabase(benchEnv('GEOJOBS_GATEWAY_DATABASE_URL'), database),
      GEOJOBS_JWT_SECRET: benchEnv('GEOJOBS_JWT_SECRET'),
      GEOJOBS_ADMIN_USER: BENCH_ADMIN.username,
      GEOJOBS_ADMIN_PASSWORD: BENCH_ADMIN.password,
      // a benchmark is one client on purpose: it measures throughput, not the per-client request rate
      GEOJOBS_RATE_LIMIT_PER_MINUTE: '0',
      ...env,
    },
    root,
  );
  const login = await fetch(`${gateway.url}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(BENCH_ADMIN) });
  if (!login.ok) {
    await gateway.stop();
    throw new Error(`the bench admin could not log in: HTTP ${login.status}`);
  }
  const { access_token: token } = (await login.json()) as { access_token: string };
  return { ...gateway, token };
}

/** Whether the module at `moduleUrl` is the script node was started with (a bench run alone), not imported by bench:peers. */
export const isMain = (moduleUrl: string): boolean => process.argv[1] !== undefined && moduleUrl === pathToFileURL(process.argv[1]).href;
