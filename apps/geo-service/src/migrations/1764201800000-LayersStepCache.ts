import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DB_ROLES } from '#shared';

/**
 * The pipeline step cache of geo-service (see libs/shared/src/pipeline): one row per step output, keyed by
 * input fingerprint, step, step version and the digest of what the step was computed from. Owned by the geo
 * role like the rest of its schema; not granted to the layers reader, as it holds no layer.
 */
export class LayersStepCache1764201800000 implements MigrationInterface {
  name = 'LayersStepCache1764201800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE layers.step_cache (
        fingerprint text NOT NULL,
        step text NOT NULL,
        version text NOT NULL,
        dependency_key text NOT NULL,
        output jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (fingerprint, step, version, dependency_key)
      )`);
    await queryRunner.query(`ALTER TABLE layers.step_cache OWNER TO ${DB_ROLES.geo}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE layers.step_cache');
  }
}
