import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { FollowupOutcome } from '#shared';

export interface FollowupRunKey {
  jobId: string;
  outcome: FollowupOutcome;
  index: number;
}

export interface FollowupAttempt {
  type: string;
  state: 'running' | 'succeeded' | 'failed';
  status?: number | null;
  error?: string | null;
  detail?: Record<string, unknown> | null;
}

export type FollowupClaim = 'claimed' | 'done' | 'busy';

/**
 * How long a delivery holds a followup it runs, renewed at every attempt: longer than one attempt and its
 * backoff (a webhook times out after 10 s). A holder that died is waited for this long at most.
 */
const CLAIM_SECONDS = 30;

/** The record of each followup action run for a job: one row per action, updated at every attempt (JobsRepository.followupRuns reads it for the job's view). */
@Injectable()
export class FollowupsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Claims a followup for this delivery: `claimed` when no other delivery holds a live claim and it has not
   * succeeded, `done` when it has, `busy` while another delivery runs it.
   */
  async claim(key: FollowupRunKey, type: string): Promise<FollowupClaim> {
    const claimed: unknown[] = await this.db.query(
      `INSERT INTO jobs.followup_runs (job_id, outcome, action_index, action_type, state, claimed_until)
       VALUES ($1, $2, $3, $4, 'running', now() + make_interval(secs => $5))
       ON CONFLICT (job_id, outcome, action_index) DO UPDATE SET state = 'running', claimed_until = excluded.claimed_until, updated_at = now()
       WHERE jobs.followup_runs.state <> 'succeeded'
         AND NOT (jobs.followup_runs.state = 'running' AND jobs.followup_runs.claimed_until > now())
       RETURNING 1`,
      [key.jobId, key.outcome, key.index, type, CLAIM_SECONDS],
    );
    if (claimed.length > 0) return 'claimed';
    const [row] = await this.db.query<{ state: FollowupAttempt['state'] }[]>(
      'SELECT state FROM jobs.followup_runs WHERE job_id = $1 AND outcome = $2 AND action_index = $3',
      [key.jobId, key.outcome, key.index],
    );
    return row?.state === 'succeeded' ? 'done' : 'busy';
  }

  /**
   * Records an attempt (`running` marks one under way, counts it and renews the claim; any other state ends the
   * claim). A success is never overwritten.
   */
  async record(key: FollowupRunKey, attempt: FollowupAttempt): Promise<void> {
    await this.db.query(
      `INSERT INTO jobs.followup_runs (job_id, outcome, action_index, action_type, state, attempts, last_status, last_error, detail, claimed_until)
       VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 = 'running' THEN 1 ELSE 0 END, $6, $7, $8,
               CASE WHEN $5 = 'running' THEN now() + make_interval(secs => $9) END)
       ON CONFLICT (job_id, outcome, action_index) DO UPDATE SET
         state = excluded.state,
         attempts = jobs.followup_runs.attempts + excluded.attempts,
         last_status = coalesce(excluded.last_status, jobs.followup_runs.last_status),
         last_error = excluded.last_error,
         detail = coalesce(excluded.detail, jobs.followup_runs.detail),
         claimed_until = excluded.claimed_until,
         updated_at = now()
       WHERE jobs.followup_runs.state <> 'succeeded'`,
      [key.jobId, key.outcome, key.index, attempt.type, attempt.state, attempt.status ?? null, attempt.error ?? null, attempt.detail ?? null, CLAIM_SECONDS],
    );
  }
}
