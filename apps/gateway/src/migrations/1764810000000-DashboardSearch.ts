import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the dashboard needs of the jobs table at 100,000 jobs and more:
 * - a trigram index on the input's text, so a search for any part of it (a dataset or resource id, a URL, a file
 *   name) is an index scan, not a read of every row;
 * - indexes for the list's newest-first pages of top-level jobs, by state and by type;
 * - each job's state changes in order (`job_transitions`), written by triggers on the jobs table itself, so every
 *   writer (coordinator, event applier, sweepers) is covered without one of them having to remember;
 * - which job a retry was made from (`job_retries`).
 * The triggers are per statement over the transition tables: a saga's 1,000 subtasks inserted in one statement
 * cost one INSERT … SELECT, not 1,000 trigger calls.
 */
export class DashboardSearch1764810000000 implements MigrationInterface {
  name = 'DashboardSearch1764810000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE EXTENSION IF NOT EXISTS pg_trgm');
    await queryRunner.query('CREATE INDEX jobs_input_text_trgm ON jobs.jobs USING gin ((input::text) gin_trgm_ops)');
    await queryRunner.query('CREATE INDEX jobs_top_level_created ON jobs.jobs (created_at DESC, id DESC) WHERE parent_id IS NULL');
    await queryRunner.query('CREATE INDEX jobs_state_created ON jobs.jobs (state, created_at DESC, id DESC)');
    await queryRunner.query('CREATE INDEX jobs_type_created ON jobs.jobs (type, created_at DESC, id DESC)');

    await queryRunner.query(`
      CREATE TABLE jobs.job_transitions (
        id bigserial PRIMARY KEY,
        job_id uuid NOT NULL REFERENCES jobs.jobs (id) ON DELETE CASCADE,
        state text NOT NULL,
        at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await queryRunner.query('CREATE INDEX job_transitions_job ON jobs.job_transitions (job_id, id)');
    await queryRunner.query(`
      CREATE FUNCTION jobs.record_inserted_states() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO jobs.job_transitions (job_id, state) SELECT id, state FROM inserted;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE FUNCTION jobs.record_changed_states() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO jobs.job_transitions (job_id, state)
          SELECT n.id, n.state FROM updated n JOIN previous o ON o.id = n.id WHERE o.state IS DISTINCT FROM n.state;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER jobs_states_inserted AFTER INSERT ON jobs.jobs
        REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION jobs.record_inserted_states()`);
    await queryRunner.query(`
      CREATE TRIGGER jobs_states_changed AFTER UPDATE ON jobs.jobs
        REFERENCING OLD TABLE AS previous NEW TABLE AS updated FOR EACH STATEMENT EXECUTE FUNCTION jobs.record_changed_states()`);

    await queryRunner.query(`
      CREATE TABLE jobs.job_retries (
        job_id uuid PRIMARY KEY REFERENCES jobs.jobs (id) ON DELETE CASCADE,
        retry_of uuid NOT NULL REFERENCES jobs.jobs (id) ON DELETE CASCADE,
        retried_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query('CREATE INDEX job_retries_retry_of ON jobs.job_retries (retry_of)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE jobs.job_retries');
    await queryRunner.query('DROP TRIGGER jobs_states_changed ON jobs.jobs');
    await queryRunner.query('DROP TRIGGER jobs_states_inserted ON jobs.jobs');
    await queryRunner.query('DROP FUNCTION jobs.record_changed_states()');
    await queryRunner.query('DROP FUNCTION jobs.record_inserted_states()');
    await queryRunner.query('DROP TABLE jobs.job_transitions');
    for (const index of ['jobs_type_created', 'jobs_state_created', 'jobs_top_level_created', 'jobs_input_text_trgm']) {
      await queryRunner.query(`DROP INDEX jobs.${index}`);
    }
  }
}
