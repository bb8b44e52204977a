import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The test run's own PostgreSQL and RabbitMQ: their own folder and ports, beside any running dev system. */
export const TEST_INFRA_ENV = {
  GEOJOBS_DATA_DIR: join(ROOT, '.data', 'test'),
  GEOJOBS_PG_PORT: process.env.GEOJOBS_TEST_PG_PORT ?? '55432',
  GEOJOBS_AMQP_PORT: process.env.GEOJOBS_TEST_AMQP_PORT ?? '55672',
  GEOJOBS_RABBITMQ_MGMT_PORT: process.env.GEOJOBS_TEST_MGMT_PORT ?? '55673',
  GEOJOBS_DB_NAME: 'geojobs_test',
};

export const TEMPLATE_DATABASE = 'geojobs_test_template';
export const HARNESS_FILE = join(TEST_INFRA_ENV.GEOJOBS_DATA_DIR, 'harness.json');

/** Runs scripts/infra.sh with the given environment; returns what it printed. */
export function infra(command: string, env: Record<string, string> = TEST_INFRA_ENV, inherit = false): string {
  const output = execFileSync('bash', [join(ROOT, 'scripts', 'infra.sh'), command], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: inherit ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'inherit'],
  });
  return output ?? '';
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

export interface Harness {
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
