import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { Envelope } from '#shared';
import { transactionRetryingDeadlocks } from '../database/transaction.js';
import type { ChildrenSummary, JobRow, JobState } from './job.model.js';

/** What a job submitted through CKAN's service-provider protocol keeps for its status and its callback. */
export interface CkanJobData {
  jobType: string;
  jobKeyHash: string;
  resultUrl: string | null;
  apiKey: string;
  metadata: Record<string, unknown>;
}

/** A saga's merge step, as declared. */
export interface SagaMerge {
  type: string;
  input: Record<string, unknown>;
  always?: boolean;
}

/** A job to insert, with the command that starts it (written to the outbox in the same transaction). */
export interface NewJob {
  id: string;
  type: string;
  input: Record<string, unknown>;
  inputFingerprint: string;
  idempotencyKey: string | null;
  followups: Record<string, unknown>;
  saga: Record<string, unknown> | null;
  owner: string;
  parentId: string | null;
  ckan: CkanJobData | null;
  /** Null for a saga parent: its subtasks do its work. */
  command: Envelope<unknown> | null;
  /** The subtasks a saga parent declares, inserted with it (see SagaCoordinator.insert). */
  subtasks?: NewJob[];
  /**
   * A saga parent's merge step, a job run once every subtask succeeded — or once all settled, whatever their
   * outcome, when `always` (without one, the coordinator merges).
   */
  merge?: SagaMerge;
}

export interface CancelledJob {
  id: string;
  parent_id: string | null;
  state: JobState;
  followups: Record<string, unknown> | null;
}

export const JOB_CHANGES_CHANNEL = 'geojobs_job_changes';

@Injectable()
export class JobsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Inserts the jobs that are not duplicates and their commands, in one statement (one transaction). A job
   * whose idempotency key, or whose active (type, input) is taken, is skipped: the unique indexes decide,
   * atomically. Returns the rows actually inserted.
   */
  async insert(jobs: NewJob[], manager: EntityManager = this.db.manager): Promise<JobRow[]> {
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
    }));
    return manager.query(
      `WITH incoming AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(
           "order" int, id uuid, type text, input jsonb, input_fingerprint text, idempotency_key text,
           followups jsonb, saga jsonb, owner text, parent_id uuid, ckan jsonb, command jsonb)
       ),
       inserted AS (
         INSERT INTO jobs.jobs (id, type, state, input, input_fingerprint, idempotency_key, followups, saga, owner, parent_id, ckan)
         SELECT id, type, 'queued', input, input_fingerprint, idempotency_key, followups, saga, owner, parent_id, ckan
         FROM incoming ORDER BY "order"
         ON CONFLICT DO NOTHING
         RETURNING *
       ),
       commands AS (
         INSERT INTO jobs.outbox (exchange, envelope)
         SELECT 'geojobs.commands', incoming.command FROM incoming JOIN inserted USING (id)
         WHERE jsonb_typeof(incoming.command) = 'object' ORDER BY incoming."order"
       )
       SELECT * FROM inserted`,
      [JSON.stringify(rows)],
    );
  }

  /** The job a duplicate submission collided with: same owner and key, or the same active type and input. */
  async findDuplicate(job: NewJob): Promise<JobRow | undefined> {
    const rows: JobRow[] = job.idempotencyKey
      ? await this.db.query('SELECT * FROM jobs.jobs WHERE owner = $1 AND idempotency_key = $2', [job.owner, job.idempotencyKey])
      : await this.db.query(
          `SELECT * FROM jobs.jobs WHERE owner = $1 AND type = $2 AND input_fingerprint = $3
             AND state IN ('queued', 'running') AND parent_id IS NULL AND idempotency_key IS NULL`,
          [job.owner, job.type, job.inputFingerprint],
        );
    return rows[0];
  }

  async findById(id: string): Promise<JobRow | undefined> {
    const rows: JobRow[] = await this.db.query('SELECT * FROM jobs.jobs WHERE id = $1', [id]);
    return rows[0];
  }

  async findByIds(ids: string[], manager: EntityManager = this.db.manager): Promise<JobRow[]> {
    return manager.query('SELECT * FROM jobs.jobs WHERE id = ANY($1::uuid[])', [ids]);
  }

  /** Of these jobs, those submitted through CKAN's service-provider protocol (they owe their client a callback). */
  async ckanJobs(manager: EntityManager, ids: string[]): Promise<string[]> {
    const rows: { id: string }[] = await manager.query('SELECT id FROM jobs.jobs WHERE id = ANY($1::uuid[]) AND ckan IS NOT NULL', [ids]);
    return rows.map((row) => row.id);
  }

  /** Top-level jobs, newest first; or, given a parent, that saga's subtasks. */
  async list(filter: { state?: JobState; type?: string; owner?: string; parentId?: string; limit: number; offset: number }): Promise<JobRow[]> {
    return this.db.query(
      `SELECT * FROM jobs.jobs
       WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR type = $2) AND ($3::text IS NULL OR owner = $3)
         AND parent_id IS NOT DISTINCT FROM $6::uuid
       ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5`,
      [filter.state ?? null, filter.type ?? null, filter.owner ?? null, filter.limit, filter.offset, filter.parentId ?? null],
    );
  }

  async childrenSummaries(parentIds: string[]): Promise<Map<string, ChildrenSummary>> {
    const rows: { parent_id: string; state: JobState; count: string }[] = await this.db.query(
      'SELECT parent_id, state, count(*) FROM jobs.jobs WHERE parent_id = ANY($1::uuid[]) GROUP BY parent_id, state',
      [parentIds],
    );
    const summaries = new Map<string, ChildrenSummary>();
    for (const row of rows) {
      const summary = summaries.get(row.parent_id) ?? { total: 0, byState: {}, percent: 0 };
      summary.byState[row.state] = Number(row.count);
      summary.total += Number(row.count);
      summaries.set(row.parent_id, summary);
    }
    for (const summary of summaries.values()) {
      const settled = summary.total - (summary.byState.queued ?? 0) - (summary.byState.running ?? 0);
      summary.percent = summary.total === 0 ? 0 : Math.round((settled / summary.total) * 100);
    }
    return summaries;
  }

  // Note: UPDATE … RETURNING goes through a CTE and a SELECT, because TypeORM answers a bare UPDATE with
  // [rows, count] rather than the rows.

  /**
   * Cancels a queued or running job and everything below it, and writes `job.cancelled` for each to the
   * outbox. Returns the ids it cancelled (none when the job had already finished).
   */
  async cancel(
    id: string,
    cancelledEvent: (jobId: string) => Envelope<unknown>,
    /** Runs in the same transaction with the jobs cancelled (the saga coordinator counts them for their parents). */
    then: (manager: EntityManager, cancelled: CancelledJob[]) => Promise<void> = async () => undefined,
  ): Promise<string[]> {
    return transactionRetryingDeadlocks(this.db, async (manager) => {
      const rows: CancelledJob[] = await manager.query(
        `WITH RECURSIVE tree AS (
           SELECT id FROM jobs.jobs WHERE id = $1
           UNION ALL SELECT child.id FROM jobs.jobs child JOIN tree ON child.parent_id = tree.id
         ),
         cancelled AS (
           UPDATE jobs.jobs SET state = 'cancelled', finished_at = now(), updated_at = now()
           WHERE id IN (SELECT id FROM tree) AND state IN ('queued', 'running')
           RETURNING id, parent_id, state, followups
         )
         SELECT * FROM cancelled`,
        [id],
      );
      const ids = rows.map((row) => row.id);
      if (ids.length > 0) {
        await manager.query(`INSERT INTO jobs.outbox (exchange, envelope) SELECT 'geojobs.events', event.envelope FROM unnest($1::jsonb[]) AS event(envelope)`, [
          ids.map((jobId) => JSON.stringify(cancelledEvent(jobId))),
        ]);
        await manager.query(`SELECT pg_notify('${JOB_CHANGES_CHANNEL}', changed.id::text) FROM unnest($1::uuid[]) AS changed(id)`, [ids]);
        await then(manager, rows);
      }
      return ids;
    });
  }

  async countByTypeAndState(): Promise<{ type: string; state: JobState; count: number }[]> {
    const rows: { type: string; state: JobState; count: string }[] = await this.db.query(
      'SELECT type, state, count(*) FROM jobs.jobs GROUP BY type, state',
    );
    return rows.map((row) => ({ ...row, count: Number(row.count) }));
  }
}
