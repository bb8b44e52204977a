import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every submission counts its owner's unfinished top-level jobs (GEOJOBS_MAX_QUEUED_PER_OWNER): this index holds
 * exactly those rows, so the count reads the owner's share of it and nothing of the finished history.
 */
export class OwnerQueueCap1764900000000 implements MigrationInterface {
  name = 'OwnerQueueCap1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX jobs_owner_unfinished ON jobs.jobs (owner) WHERE parent_id IS NULL AND state IN ('queued', 'running')`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX jobs.jobs_owner_unfinished');
  }
}
