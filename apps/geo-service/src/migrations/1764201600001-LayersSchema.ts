import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DB_ROLES } from '#shared';

/**
 * geo-service owns the layers schema (it creates one table per imported layer); the gateway may only read
 * it, through the layers reader role, to serve descriptions and tiles.
 */
export class LayersSchema1764201600001 implements MigrationInterface {
  name = 'LayersSchema1764201600001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE SCHEMA layers AUTHORIZATION ${DB_ROLES.geo}`);
    await queryRunner.query(`GRANT USAGE ON SCHEMA layers TO ${DB_ROLES.layersReader}`);
    await queryRunner.query(
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${DB_ROLES.geo} IN SCHEMA layers GRANT SELECT ON TABLES TO ${DB_ROLES.layersReader}`,
    );
    await queryRunner.query(`GRANT ${DB_ROLES.layersReader} TO ${DB_ROLES.gateway}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`REVOKE ${DB_ROLES.layersReader} FROM ${DB_ROLES.gateway}`);
    await queryRunner.query('DROP SCHEMA layers CASCADE');
  }
}
