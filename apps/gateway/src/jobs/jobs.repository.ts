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
  updated_at: Date;
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

  /** The job's state changes in order (written by the table's triggers), the job it retried and its retries. */
  async history(jobId: string): Promise<JobHistory> {
    const [transitions, retryOf, retries] = await Promise.all([
      this.db.query<{ state: JobState; at: Date }[]>('SELECT state, at FROM jobs.job_transitions WHERE job_id = $1 ORDER BY id', [jobId]),
      this.db.query<{ retry_of: string }[]>('SELECT retry_of FROM jobs.job_retries WHERE job_id = $1', [jobId]),
      this.db.query<{ job_id: string }[]>('SELECT job_id FROM jobs.job_retries WHERE retry_of = $1 ORDER BY created_at', [jobId]),
    ]);
    return {
      transitions: transitions.map((row) => ({ state: row.state, at: new Date(row.at).toISOString() })),
      retryOf: retryOf[0]?.retry_of ?? null,
      retries: retries.map((row) => row.job_id),
    };
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

  /** What became of the job's followup actions, for GET /jobs/:id (the runner in followups/ writes them). */
  async followupRuns(jobId: string): Promise<FollowupRunView[]> {
    const rows: FollowupRunRow[] = await this.db.query('SELECT * FROM jobs.followup_runs WHERE job_id = $1 ORDER BY outcome DESC, action_index', [jobId]);
    return rows.map((row) => ({
      outcome: row.outcome,
      index: row.action_index,
      type: row.action_type,
      state: row.state,
      attempts: row.attempts,
      lastStatus: row.last_status,
      lastError: row.last_error,
      detail: row.detail,
      updatedAt: new Date(row.updated_at).toISOString(),
    }));
  }

  async countByTypeAndState(): Promise<{ type: string; state: JobState; count: number }[]> {
    const rows: { type: string; state: JobState; count: string }[] = await this.db.query('SELECT type, state, count(*) FROM jobs.jobs GROUP BY type, state');
    return rows.map((row) => ({ ...row, count: Number(row.count) }));
  }
}
