import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DB_ROLES } from '#shared';

/**
 * The pipeline step cache of export-service (see libs/shared/src/pipeline): one row per step output, keyed by
 * input fingerprint, step, step version and the digest of what the step was computed from. Owned by the
 * export role like the rest of its schema.
 */
export class PackagesStepCache1764201800001 implements MigrationInterface {
  name = 'PackagesStepCache1764201800001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE packages.step_cache (
        fingerprint text NOT NULL,
        step text NOT NULL,
        version text NOT NULL,
        dependency_key text NOT NULL,
        output jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (fingerprint, step, version, dependency_key)
      )`);
    await queryRunner.query(`ALTER TABLE packages.step_cache OWNER TO ${DB_ROLES.export}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE packages.step_cache');
  }
}
