import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { assertTestDatabase, readHarness, TEMPLATE_DATABASE } from './global-setup.js';

export interface TestContext {
  /** This file's own database, cloned from the migrated template. */
  database: string;
  /** This file's own RabbitMQ virtual host. */
  vhost: string;
  amqpUrl: string;
  /** Connection URLs of this file's database, by role. */
  databaseUrls: { admin: string; gateway: string; geo: string; export: string };
  managementUrl: string;
  dispose(): Promise<void>;
}

const withDatabase = (url: string, database: string): string => {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
};

/** Management API call with the credentials in the URL moved to an Authorization header (fetch refuses them). */
export async function management(baseUrl: string, method: string, path: string, body?: unknown): Promise<Response> {
  const url = new URL(baseUrl);
  const auth = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64');
  url.username = '';
  url.password = '';
  const response = await fetch(new URL(path, url), {
    method,
    headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok && response.status !== 404) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response;
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A database and a vhost of this test file's own, so files run side by side without seeing each other. */
export async function createTestContext(): Promise<TestContext> {
  const { env } = readHarness();
  const suffix = randomBytes(6).toString('hex');
  const database = `geojobs_test_${suffix}`;
  assertTestDatabase(database);
  await adminQuery(env.GEOJOBS_ADMIN_DATABASE_URL, `CREATE DATABASE "${database}" TEMPLATE "${TEMPLATE_DATABASE}"`);

  const vhost = `geojobs_test_${suffix}`;
  const managementUrl = env.GEOJOBS_RABBITMQ_MGMT_URL;
  const user = decodeURIComponent(new URL(env.GEOJOBS_AMQP_URL).username);
  await management(managementUrl, 'PUT', `/api/vhosts/${vhost}`, {});
  await management(managementUrl, 'PUT', `/api/permissions/${vhost}/${user}`, { configure: '.*', write: '.*', read: '.*' });
  const amqpUrl = new URL(env.GEOJOBS_AMQP_URL);
  amqpUrl.pathname = `/${vhost}`;

  return {
    database,
    vhost,
    amqpUrl: amqpUrl.toString(),
    managementUrl,
    databaseUrls: {
      admin: withDatabase(env.GEOJOBS_ADMIN_DATABASE_URL, database),
      gateway: withDatabase(env.GEOJOBS_GATEWAY_DATABASE_URL, database),
      geo: withDatabase(env.GEOJOBS_GEO_DATABASE_URL, database),
      export: withDatabase(env.GEOJOBS_EXPORT_DATABASE_URL, database),
    },
    async dispose() {
      await management(managementUrl, 'DELETE', `/api/vhosts/${vhost}`);
      await adminQuery(env.GEOJOBS_ADMIN_DATABASE_URL, `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    },
  };
}
