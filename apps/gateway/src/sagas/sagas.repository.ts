import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { SagaPolicyName } from '#shared';
import { preparedQuery, type PreparedStatement } from '../database/prepared-query.js';
import { transactionRetryingDeadlocks } from '../database/transaction.js';
import type { JobError, JobRow, JobState, NewJob, SagaMerge } from '../job-model/job.model.js';
import { enqueueFrom, exchangeOf, OutboxRepository } from '../outbox/outbox.repository.js';
import type { SubtaskFailure } from './saga-decisions.js';

/** How a saga ends when a subtask fails: the shared contract's policies. */
export type SagaPolicy = SagaPolicyName;

/** A job that just left queued/running, as the coordinator needs it. */
export interface SettledJob {
  id: string;
  parent_id: string | null;
  state: JobState;
  followups: Record<string, unknown> | null;
  /** Submitted through CKAN's service-provider protocol: it owes its client a callback. */
  owes_ckan_callback: boolean;
}

/**
 * The RETURNING list of a statement that moves jobs (aliased `j`) to a final state: a SettledJob per row, so the
 * coordinator needs no second look at them.
 */
export const SETTLED_JOB_COLUMNS = 'j.id, j.parent_id, j.state, j.followups, j.ckan IS NOT NULL AS owes_ckan_callback';

/**
 * A settled job with the id of the message that settled it: the event a service sent, the fan-out that could not
 * run; null when nothing on the broker caused it (a caller's cancel, the deadline sweeper). What the settlement
 * sets off (followups, merges, the parent's outcome, cancellations) is caused by that message in turn.
 */
export type Settlement = SettledJob & { causationId: string | null };

/** Which part of a tree `cancelTree` cancels, and whether it waits for rows another transaction holds. */
export interface CancelScope {
  /** The roots too (a caller's cancel), or only what is below them (a saga cut short). */
  roots: boolean;
  /**
   * Skip rows another transaction holds: that one is settling them (a cut-short saga must not wait on its own
   * subtasks' events). A caller's cancel waits instead, so nothing below the job is left running.
   */
  skipLocked: boolean;
}

/** A saga row after a batch of settlements was counted, with its parent's state at that moment. */
export interface SagaCount {
  job_id: string;
  policy: SagaPolicy;
  total: number;
  settled: number;
  failed: number;
  cancelled: number;
  deadline_at: Date | null;
  merge: SagaMerge | null;
  merge_job_id: string | null;
  parent_state: JobState;
  parent_owner: string;
}

export interface NewSaga {
  jobId: string;
  policy: SagaPolicy;
  total: number;
  deadlineSeconds: number | null;
  merge: SagaMerge | null;
}

/** A job that fanned out at run time, as the coordinator checks it. */
export interface FanoutParent {
  id: string;
  owner: string;
  state: JobState;
  /** It is a saga already: a redelivered fan-out, or one declared at submission. */
  is_saga: boolean;
}

/** A merge job that just settled, with its saga. */
export interface SettledMerge {
  saga: SagaCount;
  state: JobState;
  result: Record<string, unknown> | null;
  error: JobError | null;
}

/** How a saga's parent ends: its final state, the merged result, the error when it failed. */
export interface SagaOutcome {
  id: string;
  state: 'succeeded' | 'failed';
  result: Record<string, unknown>;
  error: JobError | null;
}

export interface TreeRow {
  id: string;
  parent_id: string | null;
  type: string;
  state: JobState;
  progress_current: number;
  progress_total: number;
  progress_message: string;
  error: JobError | null;
  depth: number;
}

export const MAX_TREE_NODES = 10_001;

const numeric = <T extends SagaCount>(row: T): T => ({
  ...row,
  total: Number(row.total),
  settled: Number(row.settled),
  failed: Number(row.failed),
  cancelled: Number(row.cancelled),
});
export const MAX_TREE_DEPTH = 8;

/** Takes an owner's queue lock until the transaction ends; `owner` is the SQL parameter (`$1`) naming the owner. */
const ownerQueueLock = (mode: 'shared' | 'exclusive', owner: string): string =>
  `${mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock'}(hashtextextended('geojobs.owner-queue:' || ${owner}, 0))`;

/**
 * The columns of a JobRow, as the insert returns them: listed, as a prepared statement's must be (see preparedQuery),
 * and every one of JobRow's (the object type checks both ways).
 */
const JOB_ROW_COLUMNS = Object.keys({
  id: true,
  type: true,
  state: true,
  progress_current: true,
  progress_total: true,
  progress_message: true,
  input: true,
  result: true,
  error: true,
  parent_id: true,
  idempotency_key: true,
  followups: true,
  saga: true,
  owner: true,
  ckan: true,
  created_at: true,
  started_at: true,
  finished_at: true,
  expires_at: true,
} satisfies Record<keyof JobRow, true>);

/** SagasRepository.insertJobs' statement, with the owner's queue lock taken first (`locked`) or not. */
const insertJobsStatement = (locked: boolean): PreparedStatement => ({
  name: locked ? 'geojobs_insert_jobs_locked' : 'geojobs_insert_jobs',
  // the lock is joined to every incoming row, so it is held before the first row is inserted
  text: `WITH ${locked ? `queue_lock AS MATERIALIZED (SELECT ${ownerQueueLock('shared', '$2')}),` : ''}
       incoming AS (
         SELECT x.* FROM ${locked ? 'queue_lock, ' : ''}jsonb_to_recordset($1::jsonb) AS x(
           "order" int, id uuid, type text, input jsonb, input_fingerprint text, idempotency_key text,
           followups jsonb, saga jsonb, owner text, parent_id uuid, ckan jsonb, command jsonb, exchange text)
       ),
       inserted AS (
         INSERT INTO jobs.jobs (id, type, state, input, input_fingerprint, idempotency_key, followups, saga, owner, parent_id, ckan)
         SELECT id, type, 'queued', input, input_fingerprint, idempotency_key, followups, saga, owner, parent_id, ckan
         FROM incoming ORDER BY "order"
         ON CONFLICT DO NOTHING
         RETURNING ${JOB_ROW_COLUMNS.join(', ')}
       ),
       commands AS (
         ${enqueueFrom(`SELECT incoming.exchange, incoming.command FROM incoming JOIN inserted USING (id)
           WHERE jsonb_typeof(incoming.command) = 'object' ORDER BY incoming."order"`)}
       )
       SELECT * FROM inserted`,
});
const INSERT_JOBS = { unlocked: insertJobsStatement(false), locked: insertJobsStatement(true) };

/**
 * The saga coordinator's SQL: the jobs a tree inserts, its saga rows, cancelling a tree. Every statement takes a
 * whole batch (many parents, many children), so a batch of settlements costs a handful of round trips whatever its
 * size. Each statement that changes a job's row announces it (OutboxRepository.notifyJobChanges).
 */
@Injectable()
export class SagasRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(OutboxRepository) private readonly outbox: OutboxRepository,
  ) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** A transaction run again when PostgreSQL aborts it as one side of a deadlock (see transactionRetryingDeadlocks). */
  transactionRetryingDeadlocks<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return transactionRetryingDeadlocks(this.db, work);
  }

  /**
   * Inserts the jobs that are not duplicates and their commands, in one statement (so one job needs no transaction
   * of its own). A job whose idempotency key, or whose active (type, input) is taken, is skipped: the unique indexes
   * decide, atomically. Returns the rows actually inserted.
   *
   * `sharedQueueLockOf`: the statement first takes that owner's queue lock shared (see lockOwnerQueue), held until
   * it commits, so a submission that needs no count is one statement rather than a transaction of four.
   */
  async insertJobs(jobs: NewJob[], manager: EntityManager = this.db.manager, sharedQueueLockOf?: string): Promise<JobRow[]> {
    const rows = jobs.map((job, order) => ({
      order,
      id: job.id,
      type: job.type,
      input: job.input,
      input_fingerprint: job.inputFingerprint,
      idempotency_key: job.idempotencyKey,
      followups: job.followups,
      saga: job.saga,
      owner: job.owner,
      parent_id: job.parentId,
      ckan: job.ckan,
      command: job.command,
      exchange: job.command && exchangeOf(job.command),
    }));
    if (sharedQueueLockOf === undefined) return preparedQuery<JobRow>(manager, INSERT_JOBS.unlocked, [JSON.stringify(rows)]);
    return preparedQuery<JobRow>(manager, INSERT_JOBS.locked, [JSON.stringify(rows), sharedQueueLockOf]);
  }

  /**
   * Takes the owner's queue lock until the transaction ends (other owners never wait): `exclusive`, an owner's
   * submission counts and inserts alone, after every one in flight has committed; `shared`, submissions far enough
   * from the cap count and insert side by side, and only an exclusive one waits for them.
   */
  async lockOwnerQueue(manager: EntityManager, owner: string, mode: 'shared' | 'exclusive'): Promise<void> {
    await manager.query(`SELECT ${ownerQueueLock(mode, '$1')}`, [owner]);
  }

  /**
   * The owner's unfinished (queued or running) top-level jobs, as this transaction sees them, counted up to
   * `atMost` (past the cap the exact number does not matter, and the count stays cheap). Subtasks and merges,
   * which the system creates, are not counted.
   */
  async unfinishedTopLevel(manager: EntityManager, owner: string, atMost: number): Promise<number> {
    const [row]: { count: string }[] = await manager.query(
      `SELECT count(*) FROM (
         SELECT 1 FROM jobs.jobs WHERE owner = $1 AND parent_id IS NULL AND state IN ('queued', 'running') LIMIT $2
       ) unfinished`,
      [owner, atMost],
    );
    return Number(row.count);
  }

  async findByIds(manager: EntityManager, ids: string[]): Promise<JobRow[]> {
    return manager.query('SELECT * FROM jobs.jobs WHERE id = ANY($1::uuid[])', [ids]);
  }

  /** These jobs (locked), for a fan-out: whether they still run and are not sagas yet. */
  async fanoutParents(manager: EntityManager, jobIds: string[]): Promise<FanoutParent[]> {
    return manager.query(
      `SELECT j.id, j.owner, j.state, EXISTS (SELECT 1 FROM jobs.sagas s WHERE s.job_id = j.id) AS is_saga
       FROM jobs.jobs j WHERE j.id = ANY($1::uuid[]) ORDER BY j.id FOR UPDATE OF j`,
      [jobIds],
    );
  }

  /**
   * Opens the sagas of parents just inserted with their subtasks, or of running jobs that fanned out: one row
   * each, and the parent shows it waits for them.
   */
  async open(manager: EntityManager, sagas: NewSaga[]): Promise<void> {
    await manager.query(
      `WITH incoming AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(job_id uuid, policy text, total int, deadline_seconds int, merge jsonb)
       ),
       opened AS (
         INSERT INTO jobs.sagas (job_id, policy, total, deadline_at, merge)
         SELECT job_id, policy, total, CASE WHEN deadline_seconds IS NULL THEN NULL ELSE now() + make_interval(secs => deadline_seconds) END, merge
         FROM incoming
       )
       UPDATE jobs.jobs j SET state = 'running', started_at = coalesce(j.started_at, now()), progress_current = 0,
         progress_total = incoming.total, progress_message = 'waiting for ' || incoming.total || ' subtasks', updated_at = now()
       FROM incoming WHERE j.id = incoming.job_id AND j.state IN ('queued', 'running')`,
      [
        JSON.stringify(
          sagas.map((saga) => ({ job_id: saga.jobId, policy: saga.policy, total: saga.total, deadline_seconds: saga.deadlineSeconds, merge: saga.merge })),
        ),
      ],
    );
  }

  /**
   * Counts settled children for their parents: one row per parent, locked in id order (so concurrent batches
   * never deadlock on each other), then incremented. Returns the sagas after counting.
   */
  async count(manager: EntityManager, perParent: { parentId: string; settled: number; failed: number; cancelled: number }[]): Promise<SagaCount[]> {
    const ids = perParent.map((entry) => entry.parentId);
    await manager.query('SELECT job_id FROM jobs.sagas WHERE job_id = ANY($1::uuid[]) ORDER BY job_id FOR UPDATE', [ids]);
    const rows: SagaCount[] = await manager.query(
      `WITH counted AS (
         UPDATE jobs.sagas s SET settled = s.settled + c.settled, failed = s.failed + c.failed, cancelled = s.cancelled + c.cancelled
         FROM jsonb_to_recordset($1::jsonb) AS c(parent_id uuid, settled int, failed int, cancelled int)
         WHERE s.job_id = c.parent_id
         RETURNING s.*
       ),
       progressed AS (
         UPDATE jobs.jobs j SET progress_current = counted.settled, progress_message = counted.settled || ' of ' || counted.total || ' subtasks settled', updated_at = now()
         FROM counted WHERE j.id = counted.job_id AND j.state = 'running'
       )
       SELECT counted.*, j.state AS parent_state, j.owner AS parent_owner FROM counted JOIN jobs.jobs j ON j.id = counted.job_id`,
      [JSON.stringify(perParent.map((entry) => ({ parent_id: entry.parentId, settled: entry.settled, failed: entry.failed, cancelled: entry.cancelled })))],
    );
    await this.outbox.notifyJobChanges(
      manager,
      rows.filter((row) => row.parent_state === 'running').map((row) => row.job_id),
    );
    return rows.map(numeric);
  }

  /** Of these settled jobs, the merge jobs, with their sagas (locked) and outcome. */
  async settledMerges(manager: EntityManager, jobIds: string[]): Promise<SettledMerge[]> {
    const rows: (SagaCount & { merge_state: JobState; merge_result: Record<string, unknown> | null; merge_error: JobError | null })[] = await manager.query(
      `SELECT s.*, p.state AS parent_state, p.owner AS parent_owner, m.state AS merge_state, m.result AS merge_result, m.error AS merge_error
       FROM jobs.sagas s JOIN jobs.jobs p ON p.id = s.job_id JOIN jobs.jobs m ON m.id = s.merge_job_id
       WHERE s.merge_job_id = ANY($1::uuid[]) ORDER BY s.job_id FOR UPDATE OF s`,
      [jobIds],
    );
    return rows.map((row) => ({ saga: numeric(row), state: row.merge_state, result: row.merge_result, error: row.merge_error }));
  }

  /** Records the merge jobs just inserted for their sagas; the parents show they are merging. */
  async merging(manager: EntityManager, merges: { parentId: string; mergeJobId: string }[]): Promise<void> {
    await manager.query(
      `WITH started AS (
         UPDATE jobs.sagas s SET merge_job_id = m.merge_job_id
         FROM jsonb_to_recordset($1::jsonb) AS m(parent_id uuid, merge_job_id uuid)
         WHERE s.job_id = m.parent_id RETURNING s.job_id
       )
       UPDATE jobs.jobs j SET progress_message = 'merging', updated_at = now() FROM started WHERE j.id = started.job_id`,
      [JSON.stringify(merges.map((merge) => ({ parent_id: merge.parentId, merge_job_id: merge.mergeJobId })))],
    );
    await this.outbox.notifyJobChanges(
      manager,
      merges.map((merge) => merge.parentId),
    );
  }

  /** Of these jobs, the sagas (locked) whose merge runs `always` and has not started. */
  async unmergedAlways(manager: EntityManager, jobIds: string[]): Promise<SagaCount[]> {
    const rows: SagaCount[] = await manager.query(
      `SELECT s.*, j.state AS parent_state, j.owner AS parent_owner FROM jobs.sagas s JOIN jobs.jobs j ON j.id = s.job_id
       WHERE s.job_id = ANY($1::uuid[]) AND s.merge_job_id IS NULL AND coalesce((s.merge->>'always')::boolean, false)
       ORDER BY s.job_id FOR UPDATE OF s`,
      [jobIds],
    );
    return rows.map(numeric);
  }

  /** Sagas whose parent was cancelled no longer have a deadline (the sweeper looks at open sagas only). */
  async close(manager: EntityManager, jobIds: string[]): Promise<void> {
    await manager.query('UPDATE jobs.sagas SET deadline_at = NULL WHERE job_id = ANY($1::uuid[]) AND deadline_at IS NOT NULL', [jobIds]);
  }

  /** Running sagas past their deadline, locked for this transaction; another gateway's sweeper skips them. */
  async claimOverdue(manager: EntityManager, limit: number): Promise<SagaCount[]> {
    const rows: SagaCount[] = await manager.query(
      `SELECT s.*, j.state AS parent_state, j.owner AS parent_owner FROM jobs.sagas s JOIN jobs.jobs j ON j.id = s.job_id
       WHERE s.deadline_at IS NOT NULL AND s.deadline_at < now() AND j.state = 'running'
       ORDER BY s.job_id LIMIT $1 FOR UPDATE OF s SKIP LOCKED`,
      [limit],
    );
    return rows.map(numeric);
  }

  /** The failed children of these parents, each with its error, per parent (oldest first): for the saga's outcome and its merge. */
  async childFailures(manager: EntityManager, parentIds: string[]): Promise<Map<string, SubtaskFailure[]>> {
    const rows: { id: string; parent_id: string; error: JobError }[] = await manager.query(
      `SELECT id, parent_id, error FROM jobs.jobs WHERE parent_id = ANY($1::uuid[]) AND state = 'failed' ORDER BY created_at, id`,
      [parentIds],
    );
    const failures = new Map<string, SubtaskFailure[]>();
    for (const row of rows) {
      const list = failures.get(row.parent_id) ?? [];
      list.push({ jobId: row.id, ...row.error });
      failures.set(row.parent_id, list);
    }
    return failures;
  }

  /**
   * The one cancel of a job tree: what is still queued or running in the trees of these jobs (the roots included
   * or not, see CancelScope) becomes `cancelled`. Returns the jobs it cancelled; writing their `job.cancelled`
   * events is the coordinator's.
   */
  async cancelTree(manager: EntityManager, rootIds: string[], scope: CancelScope): Promise<SettledJob[]> {
    const rows: SettledJob[] = await manager.query(
      `WITH RECURSIVE tree AS (
         SELECT id, 0 AS depth FROM jobs.jobs WHERE id = ANY($1::uuid[])
         UNION ALL SELECT child.id, tree.depth + 1 FROM jobs.jobs child JOIN tree ON child.parent_id = tree.id
       ),
       cancelled AS (
         UPDATE jobs.jobs j SET state = 'cancelled', finished_at = now(), updated_at = now()
         WHERE j.id IN (
           SELECT id FROM jobs.jobs WHERE id IN (SELECT id FROM tree WHERE depth >= $2) AND state IN ('queued', 'running')
           FOR UPDATE${scope.skipLocked ? ' SKIP LOCKED' : ''}
         )
         RETURNING ${SETTLED_JOB_COLUMNS}
       )
       SELECT * FROM cancelled`,
      [rootIds, scope.roots ? 0 : 1],
    );
    await this.outbox.notifyJobChanges(
      manager,
      rows.map((row) => row.id),
    );
    return rows;
  }

  /** Writes the merged outcome of sagas whose parents still run; returns the parents that changed. */
  async finish(manager: EntityManager, outcomes: SagaOutcome[]): Promise<SettledJob[]> {
    const rows: SettledJob[] = await manager.query(
      `WITH finished AS (
         UPDATE jobs.jobs j SET state = o.state, result = o.result, error = o.error, finished_at = now(), updated_at = now(),
           progress_message = CASE WHEN o.state = 'succeeded' THEN 'all subtasks succeeded' ELSE (o.error->>'message') END
         FROM jsonb_to_recordset($1::jsonb) AS o(id uuid, state text, result jsonb, error jsonb)
         WHERE j.id = o.id AND j.state IN ('queued', 'running')
         RETURNING ${SETTLED_JOB_COLUMNS}
       ),
       closed AS (
         UPDATE jobs.sagas s SET deadline_at = NULL FROM finished WHERE s.job_id = finished.id AND s.deadline_at IS NOT NULL
       )
       SELECT * FROM finished`,
      [JSON.stringify(outcomes)],
    );
    await this.outbox.notifyJobChanges(
      manager,
      rows.map((row) => row.id),
    );
    return rows;
  }

  /** The job and everything below it, breadth first, capped in depth and in size. */
  async tree(rootId: string): Promise<TreeRow[]> {
    return this.db.query(
      `WITH RECURSIVE tree AS (
         SELECT id, parent_id, type, state, progress_current, progress_total, progress_message, error, created_at, 0 AS depth
         FROM jobs.jobs WHERE id = $1
         UNION ALL
         SELECT c.id, c.parent_id, c.type, c.state, c.progress_current, c.progress_total, c.progress_message, c.error, c.created_at, tree.depth + 1
         FROM jobs.jobs c JOIN tree ON c.parent_id = tree.id WHERE tree.depth < $2
       )
       SELECT id, parent_id, type, state, progress_current, progress_total, progress_message, error, depth FROM tree
       ORDER BY depth, created_at, id LIMIT $3`,
      [rootId, MAX_TREE_DEPTH, MAX_TREE_NODES],
    );
  }
}
