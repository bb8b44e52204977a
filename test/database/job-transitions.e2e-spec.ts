import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createTestContext, type TestContext } from '../harness/context.js';

/**
 * The transitions trigger of jobs.jobs against PostgreSQL: what it records (a job's `queued` is its creation, read from
 * `created_at`: no row), and that an update of many jobs costs it one join of its rows, however the session's first
 * updates were planned (auto_explain, its plans sent to this client as notices).
 */
describe('job transitions (the update trigger of jobs.jobs)', () => {
  let context: TestContext;
  let admin: pg.Client;
  const plans: string[] = [];

  const insertQueued = async (count: number): Promise<string[]> => {
    const ids = Array.from({ length: count }, () => randomUUID());
    await admin.query(
      `INSERT INTO jobs.jobs (id, type, state, input, input_fingerprint, owner)
       SELECT id, 'noop', 'queued', '{"service":"geo"}', id::text, 'portal' FROM unnest($1::uuid[]) AS id`,
      [ids],
    );
    return ids;
  };

  /** What the applier does with a quick job's final event: queued straight to succeeded, with when it started. */
  const finish = (ids: string[]) =>
    admin.query(
      `UPDATE jobs.jobs SET state = 'succeeded', started_at = now() - interval '1 second', finished_at = now(), updated_at = now()
       WHERE id = ANY($1::uuid[]) AND state = 'queued'`,
      [ids],
    );

  const transitionsOf = async (ids: string[]) =>
    (
      await admin.query<{ job_id: string; states: string[]; running_at_start: boolean }>(
        `SELECT t.job_id, array_agg(t.state ORDER BY t.id) AS states,
                bool_or(t.state = 'running' AND t.at = j.started_at) AS running_at_start
         FROM jobs.job_transitions t JOIN jobs.jobs j ON j.id = t.job_id WHERE t.job_id = ANY($1::uuid[]) GROUP BY t.job_id`,
        [ids],
      )
    ).rows;

  beforeAll(async () => {
    context = await createTestContext();
    admin = new pg.Client({ connectionString: context.databaseUrls.admin });
    await admin.connect();
    admin.on('notice', (notice) => {
      if (notice.message?.includes('jobs.job_transitions')) plans.push(notice.message);
    });
  });

  afterAll(async () => {
    await admin?.end();
    await context?.dispose();
  });

  it('writes nothing for a job inserted: its queued time is its created_at', async () => {
    const ids = await insertQueued(3);
    expect(await transitionsOf(ids)).toEqual([]);
  });

  it('records a quick job as running at its start, then its final state, in that order', async () => {
    const ids = await insertQueued(3);
    await finish(ids);
    const transitions = await transitionsOf(ids);
    expect(transitions).toHaveLength(3);
    for (const job of transitions) {
      expect(job.states).toEqual(['running', 'succeeded']);
      expect(job.running_at_start).toBe(true);
    }
  });

  it('records a job that reported its start each change of state, and nothing for a change of no state', async () => {
    const [id] = await insertQueued(1);
    await admin.query(`UPDATE jobs.jobs SET state = 'running', started_at = now() WHERE id = $1`, [id]);
    await admin.query(`UPDATE jobs.jobs SET state = 'failed', finished_at = now() WHERE id = $1`, [id]);
    await admin.query(`UPDATE jobs.jobs SET progress_message = 'a change of no state' WHERE id = $1`, [id]);
    expect((await transitionsOf([id]))[0].states).toEqual(['running', 'failed']);
  });

  it('joins the rows of an update of 500 jobs once, not each with every other, after updates of one job were planned first', async () => {
    // the session's first updates are of one job each: a plan kept from them would compare rows pairwise
    for (let update = 0; update < 6; update++) await finish(await insertQueued(1));
    const ids = await insertQueued(500);
    await admin.query("LOAD 'auto_explain'");
    await admin.query(`SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;
                       SET auto_explain.log_analyze = on; SET auto_explain.log_level = notice`);
    try {
      await finish(ids);
    } finally {
      await admin.query('SET auto_explain.log_min_duration = -1');
    }
    const plan = plans.find((text) => text.includes('INSERT INTO jobs.job_transitions'));
    expect(plan).toBeDefined();
    expect(plan).not.toMatch(/Rows Removed by Join Filter/);
    expect(plan).toMatch(/Hash Join|Merge Join/);
    const transitions = await transitionsOf(ids);
    expect(transitions).toHaveLength(500);
    expect(transitions.every((job) => job.states.join() === 'running,succeeded' && job.running_at_start)).toBe(true);
  });
});
