import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DB_ROLES, ensureRole } from '../roles.js';

/** PostGIS, the service roles, and a database that nobody but them may connect to. */
export class DatabaseAccess1764201500000 implements MigrationInterface {
  name = 'DatabaseAccess1764201500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE EXTENSION IF NOT EXISTS postgis');
    for (const role of [DB_ROLES.gateway, DB_ROLES.geo, DB_ROLES.export]) await queryRunner.query(ensureRole(role, true));
    await queryRunner.query(ensureRole(DB_ROLES.layersReader, false));
    await queryRunner.query(`
      DO $$ BEGIN
        EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO ${DB_ROLES.gateway}, ${DB_ROLES.geo}, ${DB_ROLES.export}', current_database());
      END $$`);
    await queryRunner.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DO $$ BEGIN
        EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO PUBLIC', current_database());
      END $$`);
  }
}
