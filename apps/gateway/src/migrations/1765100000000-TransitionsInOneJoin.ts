import type { MigrationInterface, QueryRunner } from 'typeorm';
import { QuickJobTransitions1765000000000 } from './1765000000000-QuickJobTransitions.js';

/**
 * The transitions trigger joins the statement's old and new rows once, planned for the rows at hand. QuickJobTransitions
 * joined them twice, as static statements: PL/pgSQL keeps a statement's plan from its first runs, when an update of one
 * row made a nested loop the cheapest join, and kept it for an update of 500 rows, comparing every updated row with
 * every other (auto_explain: 187,922 rows removed by the join filter for 434 rows; 149 ms of a 1,000-row update, where
 * a merge join took 2 ms). `EXECUTE` plans the join for each statement's transition tables. What it records is
 * unchanged: for each job whose state changed, a `running` transition at its `started_at` when the update took it from
 * queued straight to its end, then the new state.
 */
export class TransitionsInOneJoin1765100000000 implements MigrationInterface {
  name = 'TransitionsInOneJoin1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION jobs.record_changed_states() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- in this order for each job, so the ids of its transitions follow its history
        EXECUTE $sql$
        INSERT INTO jobs.job_transitions (job_id, state, at)
          SELECT n.id, t.state, t.at
          FROM updated n JOIN previous o ON o.id = n.id
          CROSS JOIN LATERAL (
            SELECT 'running', n.started_at
              WHERE o.state = 'queued' AND n.state IN ('succeeded', 'failed') AND o.started_at IS NULL AND n.started_at IS NOT NULL
            UNION ALL
            SELECT n.state, clock_timestamp() WHERE o.state IS DISTINCT FROM n.state
          ) AS t(state, at)
        $sql$;
        RETURN NULL;
      END $$`);
  }

  /** Back to the two static joins, exactly as QuickJobTransitions wrote them. */
  async down(queryRunner: QueryRunner): Promise<void> {
    await new QuickJobTransitions1765000000000().up(queryRunner);
  }
}
