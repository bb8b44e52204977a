import type { CommandEnvelope } from '#shared';

export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'expired'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const FINAL_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled', 'expired'];
export const isFinal = (state: JobState): boolean => FINAL_STATES.includes(state);

export interface JobError {
  type: string;
  class: string;
  message: string;
}

/** A row of jobs.jobs, as the database returns it. */
export interface JobRow {
  id: string;
  type: string;
  state: JobState;
  progress_current: number;
  progress_total: number;
  progress_message: string;
  input: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: JobError | null;
  parent_id: string | null;
  idempotency_key: string | null;
  followups: Record<string, unknown>;
  saga: Record<string, unknown> | null;
  owner: string;
  ckan: CkanJobData | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  expires_at: Date | null;
}

export interface ChildrenSummary {
  total: number;
  byState: Partial<Record<JobState, number>>;
  /** Settled children out of all, 0–100. */
  percent: number;
  /** The children themselves, oldest first (`GET /jobs/:id` only; up to 1,000). */
  jobs?: { id: string; type: string; state: JobState }[];
}

/** What became of one followup action of a job. */
export interface FollowupRunView {
  outcome: 'succeeded' | 'failed';
  index: number;
  type: string;
  state: 'running' | 'succeeded' | 'failed';
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  detail: Record<string, unknown> | null;
  updatedAt: string;
}

/** The job as the API shows it. */
export interface JobView {
  id: string;
  type: string;
  state: JobState;
  progress: { current: number; total: number; message: string };
  input: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: JobError | null;
  parentId: string | null;
  children: ChildrenSummary | null;
  idempotencyKey: string | null;
  followups: Record<string, unknown>;
  /** `GET /jobs/:id` only: the followups run so far. */
  followupRuns?: FollowupRunView[];
  owner: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  expiresAt: string | null;
}

const iso = (value: Date | null): string | null => (value ? new Date(value).toISOString() : null);

/** Followups as shown: a webhook's secret never leaves the gateway (not in views, not in webhook bodies). */
const redacted = (followups: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(followups).map(([outcome, actions]) => [
      outcome,
      Array.isArray(actions) ? actions.map((action: Record<string, unknown>) => ('secret' in action ? { ...action, secret: '[redacted]' } : action)) : actions,
    ]),
  );

export function toView(row: JobRow, children: ChildrenSummary | null = null): JobView {
  return {
    id: row.id,
    type: row.type,
    state: row.state,
    progress: { current: row.progress_current, total: row.progress_total, message: row.progress_message },
    input: row.input,
    result: row.result,
    error: row.error,
    parentId: row.parent_id,
    children,
    idempotencyKey: row.idempotency_key,
    followups: redacted(row.followups),
    owner: row.owner,
    createdAt: iso(row.created_at)!,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    expiresAt: iso(row.expires_at),
  };
}

/** What a job submitted through CKAN's service-provider protocol keeps for its status and its callback. */
export interface CkanJobData {
  jobType: string;
  jobKeyHash: string;
  resultUrl: string | null;
  apiKey: string;
  metadata: Record<string, unknown>;
  /** What became of the last callback to resultUrl (CkanCallbackRepository), shown in the job dict's logs. */
  callback?: { at: string; level: 'INFO' | 'ERROR'; message: string };
}

/** A saga's merge step, as declared. */
export interface SagaMerge {
  type: string;
  input: Record<string, unknown>;
  always?: boolean;
  /** The parent ends as the merge ends, with the merge's result as its own (see FanoutMergeV1.decides). */
  decides?: boolean;
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
  command: CommandEnvelope | null;
  /** The subtasks a saga parent declares, inserted with it (see SagaCoordinator.insert). */
  subtasks?: NewJob[];
  /**
   * A saga parent's merge step, a job run once every subtask succeeded — or once all settled, whatever their
   * outcome, when `always` (without one, the coordinator merges).
   */
  merge?: SagaMerge;
}
