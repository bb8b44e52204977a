import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DB_ROLES, stepCacheTableSql } from '#shared';

/**
 * The pipeline step cache of geo-service (see libs/shared/src/pipeline), owned by the geo role like the rest of its
 * schema; not granted to the layers reader, as it holds no layer.
 */
export class LayersStepCache1764201800000 implements MigrationInterface {
  name = 'LayersStepCache1764201800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const statement of stepCacheTableSql('layers', DB_ROLES.geo)) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE layers.step_cache');
  }
}
