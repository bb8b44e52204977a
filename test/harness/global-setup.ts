/**
 * Once per run: build, start (or reuse) the test PostgreSQL and RabbitMQ, and migrate a template database
 * that every test file clones. Jest loads this file on its own (its relative imports are not transformed),
 * so everything it needs is here, and the test files import the shared names from it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The test run's own PostgreSQL and RabbitMQ: their own folder and ports, beside any running dev system. The ports
 * lie below Linux's ephemeral range (32768-60999): a port in it can be taken by any outgoing connection, or by a
 * client's own reconnect attempt connecting to itself, and a server restarted on it then fails with EADDRINUSE.
 */
export const TEST_INFRA_ENV: Record<string, string> = {
  GEOJOBS_DATA_DIR: process.env.GEOJOBS_TEST_DATA_DIR ?? join(ROOT, '.data', 'test'),
  GEOJOBS_PG_PORT: process.env.GEOJOBS_TEST_PG_PORT ?? '25432',
  GEOJOBS_AMQP_PORT: process.env.GEOJOBS_TEST_AMQP_PORT ?? '25672',
  GEOJOBS_RABBITMQ_MGMT_PORT: process.env.GEOJOBS_TEST_MGMT_PORT ?? '25673',
  GEOJOBS_RABBITMQ_DIST_PORT: process.env.GEOJOBS_TEST_DIST_PORT ?? '25674',
  // Beside the PostgreSQL test port (25432 → 25050, 21432 → 21050), so runs given ports of their own get this one too.
  GEOJOBS_FIREBIRD_PORT: process.env.GEOJOBS_TEST_FIREBIRD_PORT ?? String(Number(process.env.GEOJOBS_TEST_PG_PORT ?? '25432') - 382),
  GEOJOBS_DB_NAME: 'geojobs_test',
};

export const TEMPLATE_DATABASE = 'geojobs_test_template';
export const HARNESS_FILE = join(TEST_INFRA_ENV.GEOJOBS_DATA_DIR, 'harness.json');
/**
 * The run's temporary folder (TMPDIR for the tests and the services they start), emptied when a run starts and removed
 * when it ends: fixtures, scratch folders and downloads of every test file land here, not in the machine's /tmp, where
 * runs had left 1.5 GB (a 68 MB GeoPackage each time from one file alone).
 */
export const TEST_TMPDIR = join(TEST_INFRA_ENV.GEOJOBS_DATA_DIR, 'tmp');

export interface Harness {
  /** What `infra.sh env` printed: connection URLs of the test servers. */
  env: Record<string, string>;
  startedInfra: boolean;
}

export const readHarness = (): Harness => JSON.parse(readFileSync(HARNESS_FILE, 'utf8')) as Harness;

/** The test set-up refuses to touch a database whose name does not say it is for tests. */
export function assertTestDatabase(name: string): void {
  if (!/^geojobs_test(_[a-z0-9_]+)?$/.test(name)) {
    throw new Error(`refusing to touch database "${name}": test databases are named geojobs_test_*`);
  }
}

/** Runs scripts/infra.sh with an environment of servers; returns what it printed. */
export function infra(command: string | string[], env: Record<string, string> = TEST_INFRA_ENV, inherit = false): string {
  const output = execFileSync('bash', [join(ROOT, 'scripts', 'infra.sh'), ...[command].flat()], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: inherit ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'inherit'],
  });
  return output ?? '';
}

/** Whether both servers of an environment are running already (`infra.sh status` exits 0). */
export function infraRunning(env: Record<string, string> = TEST_INFRA_ENV): boolean {
  try {
    infra('status', env);
    return true;
  } catch {
    return false;
  }
}

/**
 * Port offsets (from the shared servers' ports) of the servers test files start for themselves, in one table so that
 * no two files running at once share a port. A RabbitMQ node takes its AMQP port + 0..4 (management, distribution,
 * rabbitmqctl's distribution range) and a cluster's later nodes 10 and 20 above, so the offsets are 100 apart.
 */
const SEPARATE_SERVERS = {
  rabbitmq: { restart: 100, cluster: 200, outage: 300 },
  postgres: { 'pg-outage': 300 },
} as const;

/** The environment of a RabbitMQ node of a test file's own (its folder and ports), for tests that stop or restart it. */
export function separateRabbitNode(name: keyof typeof SEPARATE_SERVERS.rabbitmq): Record<string, string> {
  const port = (key: string) => String(Number(TEST_INFRA_ENV[key]) + SEPARATE_SERVERS.rabbitmq[name]);
  return {
    ...TEST_INFRA_ENV,
    GEOJOBS_DATA_DIR: `${TEST_INFRA_ENV.GEOJOBS_DATA_DIR}-${name}`,
    GEOJOBS_AMQP_PORT: port('GEOJOBS_AMQP_PORT'),
    GEOJOBS_RABBITMQ_MGMT_PORT: port('GEOJOBS_RABBITMQ_MGMT_PORT'),
    GEOJOBS_RABBITMQ_DIST_PORT: port('GEOJOBS_RABBITMQ_DIST_PORT'),
  };
}

/** The environment of a PostgreSQL of a test file's own (its folder and port), for tests that stop or restart it. */
export function separatePostgres(name: keyof typeof SEPARATE_SERVERS.postgres): Record<string, string> {
  return {
    ...TEST_INFRA_ENV,
    GEOJOBS_DATA_DIR: `${TEST_INFRA_ENV.GEOJOBS_DATA_DIR}-${name}`,
    GEOJOBS_PG_PORT: String(Number(TEST_INFRA_ENV.GEOJOBS_PG_PORT) + SEPARATE_SERVERS.postgres[name]),
  };
}

/** Parses the `export NAME=value` lines of `infra.sh env`. */
export function infraEnv(env: Record<string, string> = TEST_INFRA_ENV): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of infra('env', env).split('\n')) {
    const match = /^export ([A-Z0-9_]+)=['"]?(.*?)['"]?$/.exec(line.trim());
    if (match) values[match[1]] = match[2];
  }
  return values;
}

export default async function globalSetup(): Promise<void> {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  rmSync(TEST_TMPDIR, { recursive: true, force: true });
  mkdirSync(TEST_TMPDIR, { recursive: true });
  // set before jest starts its workers, which inherit it (and os.tmpdir() reads it on every call)
  process.env.TMPDIR = TEST_TMPDIR;
  const startedInfra = !infraRunning();
  infra('up', undefined, true);
  const env = infraEnv();

  assertTestDatabase(TEMPLATE_DATABASE);
  const admin = new pg.Client({ connectionString: env.GEOJOBS_ADMIN_DATABASE_URL });
  await admin.connect();
  try {
    const stale = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'geojobs\\_test\\_%'`);
    for (const { datname } of stale.rows) {
      assertTestDatabase(datname);
      await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
    await admin.query(`CREATE DATABASE "${TEMPLATE_DATABASE}"`);
  } finally {
    await admin.end();
  }

  const templateUrl = new URL(env.GEOJOBS_ADMIN_DATABASE_URL);
  templateUrl.pathname = `/${TEMPLATE_DATABASE}`;
  execFileSync('node', ['dist/scripts/migrate.js'], {
    cwd: ROOT,
    env: { ...process.env, GEOJOBS_ADMIN_DATABASE_URL: templateUrl.toString() },
    stdio: 'inherit',
  });

  const harness: Harness = { env, startedInfra };
  writeFileSync(HARNESS_FILE, JSON.stringify(harness));
  // Read by global-teardown.ts, which jest runs in this same process.
  (globalThis as { geojobsTestInfra?: unknown }).geojobsTestInfra = { root: ROOT, env: TEST_INFRA_ENV, startedInfra, tmpdir: TEST_TMPDIR };
}
