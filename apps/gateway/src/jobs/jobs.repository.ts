import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { LAYERS_SCHEMA, type FollowupOutcome } from '#shared';
import type { ChildrenSummary, FollowupRunView, JobRow, JobState, NewJob } from '../job-model/job.model.js';

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
  constructor(@InjectDataSource() private readonly db: DataSource) {}

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
