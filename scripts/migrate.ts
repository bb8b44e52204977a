/**
 * Runs every service's TypeORM migrations, in timestamp order, with the administrative database URL
 * (GEOJOBS_ADMIN_DATABASE_URL): the services' own roles cannot change the schema. Safe to run again.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { SHARED_MIGRATIONS } from '../libs/shared/src/database/migrations/index.js';
import { GATEWAY_MIGRATIONS } from '../apps/gateway/src/migrations/index.js';
import { GEO_MIGRATIONS } from '../apps/geo-service/src/migrations/index.js';
import { EXPORT_MIGRATIONS } from '../apps/export-service/src/migrations/index.js';

const url = process.env.GEOJOBS_ADMIN_DATABASE_URL;
if (!url) {
  process.stderr.write('migrate: GEOJOBS_ADMIN_DATABASE_URL is not set (a postgres:// URL of a role that may create schemas)\n');
  process.exit(78);
}

const dataSource = new DataSource({
  type: 'postgres',
  url,
  migrations: [...SHARED_MIGRATIONS, ...GATEWAY_MIGRATIONS, ...GEO_MIGRATIONS, ...EXPORT_MIGRATIONS],
  migrationsTableName: 'geojobs_migrations',
  migrationsTransactionMode: 'each',
});

await dataSource.initialize();
try {
  const applied = await dataSource.runMigrations();
  const database = new URL(url).pathname.slice(1);
  process.stdout.write(`[migrate] ${database}: ${applied.length} migration(s) applied${applied.map((m) => `\n  ${m.name}`).join('')}\n`);
} finally {
  await dataSource.destroy();
}
