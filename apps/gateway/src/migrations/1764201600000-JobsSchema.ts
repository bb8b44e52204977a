import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DB_ROLES } from '#shared';

/** The gateway's schema: it reads and writes rows there, but cannot change the schema itself. */
export class JobsSchema1764201600000 implements MigrationInterface {
  name = 'JobsSchema1764201600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE SCHEMA jobs');
    await queryRunner.query(`GRANT USAGE ON SCHEMA jobs TO ${DB_ROLES.gateway}`);
    await queryRunner.query(
      `ALTER DEFAULT PRIVILEGES IN SCHEMA jobs GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${DB_ROLES.gateway}`,
    );
    await queryRunner.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA jobs GRANT USAGE, SELECT ON SEQUENCES TO ${DB_ROLES.gateway}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP SCHEMA jobs CASCADE');
  }
}
