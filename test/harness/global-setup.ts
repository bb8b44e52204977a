import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { assertTestDatabase, HARNESS_FILE, infra, infraEnv, ROOT, TEMPLATE_DATABASE, type Harness } from './infra.js';

/**
 * Once per run: build, start (or reuse) the test PostgreSQL and RabbitMQ, and migrate a template database
 * that every test file clones.
 */
export default async function globalSetup(): Promise<void> {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  const startedInfra = !/postgres.*running[\s\S]*rabbitmq.*running/i.test(infra('status'));
  infra('up', undefined, true);
  const env = infraEnv();

  assertTestDatabase(TEMPLATE_DATABASE);
  const admin = new pg.Client({ connectionString: env.GEOJOBS_ADMIN_DATABASE_URL });
  await admin.connect();
  try {
    const stale = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'geojobs\\_test\\_%'`,
    );
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
}
