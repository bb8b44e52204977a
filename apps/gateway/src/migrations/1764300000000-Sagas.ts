import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sagas and followups. A saga row per parent job counts its subtasks' settlements (one UPDATE per parent and
 * batch, in the transaction that settles the subtasks, so a redelivered completion is never counted twice);
 * `deadline_at` is when the sweeper fails the saga if it is still running (cleared when it ends, so the
 * sweeper's index holds open sagas only); `merge` is the merge step's job
 * (type and input), run once every subtask succeeded, and `merge_job_id` that job once started. A followup run row per action of
 * a finished job records its attempts and outcome.
 */
export class Sagas1764300000000 implements MigrationInterface {
  name = 'Sagas1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE jobs.sagas (
        job_id uuid PRIMARY KEY REFERENCES jobs.jobs (id) ON DELETE CASCADE,
        policy text NOT NULL CHECK (policy IN ('all-settled', 'fail-fast')),
        total integer NOT NULL CHECK (total > 0),
        settled integer NOT NULL DEFAULT 0,
        failed integer NOT NULL DEFAULT 0,
        cancelled integer NOT NULL DEFAULT 0,
        deadline_at timestamptz,
        merge jsonb,
        merge_job_id uuid,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query('CREATE INDEX sagas_deadline ON jobs.sagas (deadline_at) WHERE deadline_at IS NOT NULL');
    await queryRunner.query('CREATE UNIQUE INDEX sagas_merge_job ON jobs.sagas (merge_job_id) WHERE merge_job_id IS NOT NULL');
    await queryRunner.query(`
      CREATE TABLE jobs.followup_runs (
        job_id uuid NOT NULL REFERENCES jobs.jobs (id) ON DELETE CASCADE,
        outcome text NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
        action_index integer NOT NULL,
        action_type text NOT NULL,
        state text NOT NULL CHECK (state IN ('running', 'succeeded', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        last_status integer,
        last_error text,
        detail jsonb,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (job_id, outcome, action_index)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE jobs.followup_runs');
    await queryRunner.query('DROP TABLE jobs.sagas');
  }
}
