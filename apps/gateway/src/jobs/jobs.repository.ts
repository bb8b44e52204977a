import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { OutboxRepository } from '../outbox/outbox.repository.js';
import { LAYERS_SCHEMA, type FollowupOutcome } from '#shared';
import type { ChildrenSummary, FollowupRunView, JobHistory, JobRow, JobState, NewJob } from '../job-model/job.model.js';
import { jobFilterSql, type JobFilter } from './job-filter.js';

interface FollowupRunRow {
  outcome: FollowupOutcome;
  action_index: number;
  action_type: string;
  state: 'running' | 'succeeded' | 'failed';
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  detail: Record<string, unknown> | null;
  updated_at: Date | string;
}

/** What `GET /jobs/:id` shows of a job beyond its row. */
export interface JobDetail {
  children: ChildrenSummary | null;
  followupRuns: FollowupRunView[];
  history: JobHistory;
}

/** The columns findWithDetail adds to the job's row (JSON built by PostgreSQL: timestamps come as text). */
interface DetailColumns {
  detail_transitions: { state: JobState; at: string }[];
  detail_retry_of: string | null;
  detail_retries: string[];
  detail_followup_runs: FollowupRunRow[];
  detail_children_by_state: Partial<Record<JobState, number>> | null;
  detail_children: { id: string; type: string; state: JobState }[];
}

/** Children counted by state: how many in all, and the percent settled (neither queued nor running). */
function childrenSummary(byState: Partial<Record<JobState, number>>): ChildrenSummary {
  const total = Object.values(byState).reduce((sum, count) => sum + count, 0);
  const settled = total - (byState.queued ?? 0) - (byState.running ?? 0);
  return { total, byState, percent: total === 0 ? 0 : Math.round((settled / total) * 100) };
}

/** The jobs table as the API reads it; jobs are written by the saga coordinator (SagasRepository). */
@Injectable()
export class JobsRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(OutboxRepository) private readonly outbox: OutboxRepository,
  ) {}

  /**
   * Succeeded jobs whose result files were removed (past retention, or cleared by SMS-Rio's `/clear/`) become
   * `expired`, and say so to the job streams; their `GET /jobs/:id/result` then answers 410. Returns those it changed.
   */
  async expire(ids: string[], manager: EntityManager = this.db.manager): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows: { id: string }[] = await manager.query(
      `UPDATE jobs.jobs SET state = 'expired', expires_at = now(), updated_at = now() WHERE id = ANY($1::uuid[]) AND state = 'succeeded' RETURNING id`,
      [ids],
    );
    const expired = rows.map((row) => row.id);
    await this.outbox.notifyJobChanges(manager, expired);
    return expired;
  }

  /**
   * Of these layer ids, the ones that are tables of the layers schema now (read through the layers reader role the
   * gateway holds): what an export may name.
   */
  async existingLayers(layerIds: string[]): Promise<Set<string>> {
    const rows = await this.db.query<{ name: string }[]>(
      `SELECT c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname = ANY($2::text[])`,
      [LAYERS_SCHEMA, layerIds],
    );
    return new Set(rows.map((row) => row.name));
  }

  /** Of these boundary names, the ones loaded (packages.boundaries, read through geojobs_packages_reader). */
  async existingBoundaries(names: string[]): Promise<Set<string>> {
    const rows = await this.db.query<{ name: string }[]>('SELECT name FROM packages.boundaries WHERE name = ANY($1::text[])', [names]);
    return new Set(rows.map((row) => row.name));
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

  /** Top-level jobs, newest first; or, given a parent, that saga's subtasks; or, given a search, jobs at any level. */
  async list(filter: JobFilter & { limit: number; offset: number }): Promise<JobRow[]> {
    const { where, params } = jobFilterSql(filter);
    return this.db.query(`SELECT * FROM jobs.jobs WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`, [
      ...params,
      filter.limit,
      filter.offset,
    ]);
  }

  /** How many jobs the filter matches (the dashboard's page count, and the count a bulk action shows first). */
  async count(filter: JobFilter): Promise<number> {
    const { where, params } = jobFilterSql(filter);
    const [row]: { count: string }[] = await this.db.query(`SELECT count(*) FROM jobs.jobs WHERE ${where}`, params);
    return Number(row.count);
  }

  /** The ids of the jobs the filter matches, oldest first, at most `limit` (what a bulk action works through). */
  async matchingIds(filter: JobFilter, limit: number): Promise<string[]> {
    const { where, params } = jobFilterSql(filter);
    const rows: { id: string }[] = await this.db.query(`SELECT id FROM jobs.jobs WHERE ${where} ORDER BY created_at, id LIMIT $${params.length + 1}`, [
      ...params,
      limit,
    ]);
    return rows.map((row) => row.id);
  }

  /** Links retries to the jobs they retried (pairs of new job id and old job id). */
  async recordRetries(retries: { jobId: string; retryOf: string }[], retriedBy: string): Promise<void> {
    if (retries.length === 0) return;
    await this.db.query(
      'INSERT INTO jobs.job_retries (job_id, retry_of, retried_by) SELECT r.job_id, r.retry_of, $3 FROM unnest($1::uuid[], $2::uuid[]) AS r(job_id, retry_of) ON CONFLICT (job_id) DO NOTHING',
      [retries.map((retry) => retry.jobId), retries.map((retry) => retry.retryOf), retriedBy],
    );
  }

  async childrenSummaries(parentIds: string[]): Promise<Map<string, ChildrenSummary>> {
    const rows: { parent_id: string; state: JobState; count: string }[] = await this.db.query(
      'SELECT parent_id, state, count(*) FROM jobs.jobs WHERE parent_id = ANY($1::uuid[]) GROUP BY parent_id, state',
      [parentIds],
    );
    const byParent = new Map<string, Partial<Record<JobState, number>>>();
    for (const row of rows) byParent.set(row.parent_id, { ...byParent.get(row.parent_id), [row.state]: Number(row.count) });
    return new Map([...byParent].map(([parentId, byState]) => [parentId, childrenSummary(byState)]));
  }

  /**
   * The job with all that `GET /jobs/:id` shows of it — its children (counted by state, and the first `listed`
   * of them), its followups' outcomes, its history (its creation, then the state changes written by the table's
   * update trigger; the job it retried and its retries) — in one statement: a read takes one connection for one round
   * trip, rather than six side by side from the pool the event applier and the outbox relay draw on too (bench:packages).
   */
  async findWithDetail(id: string, listed: number): Promise<{ row: JobRow; detail: JobDetail } | undefined> {
    const rows: (JobRow & DetailColumns)[] = await this.db.query(
      `SELECT j.*,
         -- every job is inserted queued: its first transition is its creation (QueuedAtCreation)
         (SELECT json_agg(json_build_object('state', t.state, 'at', t.at) ORDER BY t.n)
            FROM (SELECT 'queued' AS state, j.created_at AS at, 0 AS n
                  UNION ALL SELECT state, at, id FROM jobs.job_transitions WHERE job_id = j.id) t) AS detail_transitions,
         (SELECT r.retry_of FROM jobs.job_retries r WHERE r.job_id = j.id) AS detail_retry_of,
         (SELECT coalesce(json_agg(r.job_id ORDER BY r.created_at), '[]') FROM jobs.job_retries r WHERE r.retry_of = j.id) AS detail_retries,
         (SELECT coalesce(json_agg(f ORDER BY f.outcome DESC, f.action_index), '[]') FROM jobs.followup_runs f WHERE f.job_id = j.id) AS detail_followup_runs,
         (SELECT json_object_agg(c.state, c.count) FROM (SELECT state, count(*) FROM jobs.jobs WHERE parent_id = j.id GROUP BY state) c) AS detail_children_by_state,
         (SELECT coalesce(json_agg(json_build_object('id', c.id, 'type', c.type, 'state', c.state) ORDER BY c.created_at, c.id), '[]')
            FROM (SELECT id, type, state, created_at FROM jobs.jobs WHERE parent_id = j.id ORDER BY created_at, id LIMIT $2) c) AS detail_children
       FROM jobs.jobs j WHERE j.id = $1`,
      [id, listed],
    );
    if (rows.length === 0) return undefined;
    const { detail_transitions, detail_retry_of, detail_retries, detail_followup_runs, detail_children_by_state, detail_children, ...row } = rows[0];
    return {
      row,
      detail: {
        children: detail_children_by_state ? { ...childrenSummary(detail_children_by_state), jobs: detail_children } : null,
        followupRuns: detail_followup_runs.map((run) => ({
          outcome: run.outcome,
          index: run.action_index,
          type: run.action_type,
          state: run.state,
          attempts: run.attempts,
          lastStatus: run.last_status,
          lastError: run.last_error,
          detail: run.detail,
          updatedAt: new Date(run.updated_at).toISOString(),
        })),
        history: {
          transitions: detail_transitions.map((transition) => ({ state: transition.state, at: new Date(transition.at).toISOString() })),
          retryOf: detail_retry_of,
          retries: detail_retries,
        },
      },
    };
  }

  async countByTypeAndState(): Promise<{ type: string; state: JobState; count: number }[]> {
    const rows: { type: string; state: JobState; count: string }[] = await this.db.query('SELECT type, state, count(*) FROM jobs.jobs GROUP BY type, state');
    return rows.map((row) => ({ ...row, count: Number(row.count) }));
  }
}
