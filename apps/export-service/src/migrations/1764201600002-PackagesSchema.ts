import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DB_ROLES } from '#shared';

/** export-service owns the packages schema: boundaries and the data it clips to them. */
export class PackagesSchema1764201600002 implements MigrationInterface {
  name = 'PackagesSchema1764201600002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE SCHEMA packages AUTHORIZATION ${DB_ROLES.export}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP SCHEMA packages CASCADE');
  }
}
