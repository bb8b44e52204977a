import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A followup run is claimed by the delivery that runs it until `claimed_until`: a second delivery of the same
 * followup arriving meanwhile (the outbox relayed it twice, or the broker redelivered it to another gateway) waits
 * for the first instead of POSTing the webhook a second time. A claim whose holder died lapses.
 */
export class FollowupClaims1764400000000 implements MigrationInterface {
  name = 'FollowupClaims1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE jobs.followup_runs ADD COLUMN claimed_until timestamptz');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE jobs.followup_runs DROP COLUMN claimed_until');
  }
}
