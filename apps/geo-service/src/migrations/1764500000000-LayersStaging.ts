import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DB_ROLES } from '#shared';
import { STAGING_SCHEMA } from '../geopreview/layer-name.js';

/**
 * The schema geo-service loads layers into before swapping them into the layers schema (see STAGING_SCHEMA). A
 * table moved from it keeps its grants, so the layers reader's SELECT is granted where it is created; the reader
 * has no USAGE on this schema, so it sees a layer only once it is swapped in.
 */
export class LayersStaging1764500000000 implements MigrationInterface {
  name = 'LayersStaging1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE SCHEMA ${STAGING_SCHEMA} AUTHORIZATION ${DB_ROLES.geo}`);
    await queryRunner.query(
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${DB_ROLES.geo} IN SCHEMA ${STAGING_SCHEMA} GRANT SELECT ON TABLES TO ${DB_ROLES.layersReader}`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP SCHEMA ${STAGING_SCHEMA} CASCADE`);
  }
}
