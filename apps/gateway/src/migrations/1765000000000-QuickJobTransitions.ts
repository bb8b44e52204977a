import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A quick job reports no `job.started`, only its final event carrying when it started: it goes from `queued` to its
 * final state in one update. Its history still shows it ran: the transitions trigger records a `running` transition at
 * the job's `started_at` before the final one, for a job whose `started_at` that update set.
 */
export class QuickJobTransitions1765000000000 implements MigrationInterface {
  name = 'QuickJobTransitions1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION jobs.record_changed_states() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO jobs.job_transitions (job_id, state, at)
          SELECT n.id, 'running', n.started_at FROM updated n JOIN previous o ON o.id = n.id
          WHERE o.state = 'queued' AND n.state IN ('succeeded', 'failed') AND o.started_at IS NULL AND n.started_at IS NOT NULL;
        INSERT INTO jobs.job_transitions (job_id, state)
          SELECT n.id, n.state FROM updated n JOIN previous o ON o.id = n.id WHERE o.state IS DISTINCT FROM n.state;
        RETURN NULL;
      END $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION jobs.record_changed_states() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO jobs.job_transitions (job_id, state)
          SELECT n.id, n.state FROM updated n JOIN previous o ON o.id = n.id WHERE o.state IS DISTINCT FROM n.state;
        RETURN NULL;
      END $$`);
  }
}
