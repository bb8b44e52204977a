import type { JobRow } from '../job-model/job.model.js';
import type { CreateJobDto } from './dto/create-job.dto.js';

export const BULK_ACTIONS = ['cancel', 'retry'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

/** What a bulk action found and did: `matched` jobs, `done` of them cancelled or retried (0 on a dry run). */
export interface BulkOutcome {
  action: BulkAction;
  matched: number;
  done: number;
}

/**
 * Why a job cannot be retried, or undefined when it can: only a top-level job that failed or was cancelled (a subtask
 * is part of its saga's outcome: retry the saga).
 */
export function retryRefusal(row: Pick<JobRow, 'state' | 'parent_id'>): string | undefined {
  if (row.parent_id) return 'it is a subtask of a saga; retry the saga';
  if (row.state !== 'failed' && row.state !== 'cancelled') return `it is ${row.state}; only a failed or cancelled job is retried`;
  return undefined;
}

/** The submission that retries a job: the same type, input, followups and saga options. */
export function retryRequest(row: Pick<JobRow, 'type' | 'input' | 'followups' | 'saga'>): CreateJobDto {
  const request: CreateJobDto = { type: row.type, input: row.input, followups: row.followups };
  const policy = row.saga?.policy;
  if (policy === 'all-settled' || policy === 'fail-fast') {
    const deadline = row.saga?.deadlineSeconds;
    request.saga = { policy, ...(typeof deadline === 'number' ? { deadlineSeconds: deadline } : {}) };
  }
  return request;
}
