import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DB_ROLES } from '#shared';

/**
 * export-service reads the layers it exports through the layers reader role, as the gateway does: SELECT on the
 * layers schema and nothing more. geo-service alone writes it.
 */
export class ExportLayersReader1764600000000 implements MigrationInterface {
  name = 'ExportLayersReader1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`GRANT ${DB_ROLES.layersReader} TO ${DB_ROLES.export}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`REVOKE ${DB_ROLES.layersReader} FROM ${DB_ROLES.export}`);
  }
}
