import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DB_ROLES, stepCacheTableSql } from '#shared';

/** The pipeline step cache of export-service (see libs/shared/src/pipeline), owned by the export role. */
export class PackagesStepCache1764201800001 implements MigrationInterface {
  name = 'PackagesStepCache1764201800001';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const statement of stepCacheTableSql('packages', DB_ROLES.export)) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE packages.step_cache');
  }
}
