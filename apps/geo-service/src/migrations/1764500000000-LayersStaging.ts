import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DB_ROLES } from '#shared';

/**
 * The schema geo-service loads layers into before swapping them into the layers schema (STAGING_SCHEMA in
 * geopreview/layer-name.ts). A table moved from it keeps its grants, so the layers reader's SELECT is granted where
 * it is created; the reader has no USAGE on this schema, so it sees a layer only once it is swapped in.
 */
export class LayersStaging1764500000000 implements MigrationInterface {
  name = 'LayersStaging1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE SCHEMA layers_staging AUTHORIZATION ${DB_ROLES.geo}`);
    await queryRunner.query(
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${DB_ROLES.geo} IN SCHEMA layers_staging GRANT SELECT ON TABLES TO ${DB_ROLES.layersReader}`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP SCHEMA layers_staging CASCADE`);
  }
}
