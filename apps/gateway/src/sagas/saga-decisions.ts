import type { CkanCallbackV1, FollowupOutcome, FollowupRunV1 } from '#shared';
import type { JobError, JobState } from '../job-model/job.model.js';
import type { SagaCount, SagaOutcome, SettledJob } from './sagas.repository.js';

/**
 * The rules of a saga, apart from the SQL that applies them (SagaCoordinator): given what the database says of a
 * saga, what happens next and how it ends. Nothing here reads or writes; every function is unit-tested on its own.
 */

/** How a saga was cut short: a subtask failed under fail-fast, the deadline passed, or the parent was cancelled. */
export type CutReason = 'fail-fast' | 'deadline' | 'cancelled';

/** One parent's share of a batch of settled jobs: what to add to its saga's counters. */
export interface Tally {
  parentId: string;
  settled: number;
  failed: number;
  cancelled: number;
}

/** How a saga's subtasks ended. */
export interface ChildrenOutcome {
  total: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

/** A failed subtask, for a saga's result and its merge step. */
export type SubtaskFailure = JobError & { jobId: string };

/**
 * The settled jobs counted for their sagas, one tally per parent. A saga's merge job is a child of the parent but
 * not one of its subtasks, so it is not counted.
 */
export function tallySettlements(jobs: readonly Pick<SettledJob, 'id' | 'parent_id' | 'state'>[], mergeJobIds: ReadonlySet<string>): Tally[] {
  const perParent = new Map<string, Tally>();
  for (const job of jobs) {
    if (!job.parent_id || mergeJobIds.has(job.id)) continue;
    const tally = perParent.get(job.parent_id) ?? { parentId: job.parent_id, settled: 0, failed: 0, cancelled: 0 };
    tally.settled++;
    if (job.state === 'failed') tally.failed++;
    if (job.state === 'cancelled') tally.cancelled++;
    perParent.set(job.parent_id, tally);
  }
  return [...perParent.values()];
}

/**
 * What a saga does once a batch of its subtasks was counted:
 * - `wait` while subtasks are out (or the parent has already ended: a cancel, a deadline, fail-fast);
 * - `merge`: all settled and its merge job starts — when every subtask succeeded, or whatever their outcome for a
 *   merge that runs `always`;
 * - `conclude`: all settled and the coordinator merges itself (no merge job, or one that needs success);
 * - `cut-short`: fail-fast and a subtask failed while others are still out.
 */
export type SagaStep = 'wait' | 'merge' | 'conclude' | 'cut-short';

export function nextStep(saga: Pick<SagaCount, 'parent_state' | 'total' | 'settled' | 'failed' | 'cancelled' | 'policy' | 'merge' | 'merge_job_id'>): SagaStep {
  if (saga.parent_state !== 'running') return 'wait';
  if (saga.settled >= saga.total) {
    const clean = saga.failed === 0 && saga.cancelled === 0;
    return saga.merge && !saga.merge_job_id && (saga.merge.always || clean) ? 'merge' : 'conclude';
  }
  return saga.policy === 'fail-fast' && saga.failed > 0 ? 'cut-short' : 'wait';
}

/**
 * Whether a job's `job.fanout` opens its saga: when the job has not ended and is not a saga yet (a fan-out delivered
 * again adds nothing). A queued job counts: the event applier writes batches concurrently, so the batch holding a
 * job's `job.started` (and its progress) may commit after the one holding its `job.fanout` — ignoring the fan-out
 * then would leave the job running forever with no subtasks.
 */
export const opensSaga = (parent: { state: JobState; is_saga: boolean }): boolean =>
  !parent.is_saga && (parent.state === 'queued' || parent.state === 'running');

/** A saga cut short still starts its merge job when the merge runs `always` (to tell the portal, clean up), once. */
export const mergesWhenCutShort = (saga: Pick<SagaCount, 'merge' | 'merge_job_id'>): boolean => Boolean(saga.merge?.always && !saga.merge_job_id);

/** How the subtasks ended, from the saga's counters and the failed subtasks found. */
export function childrenOutcome(saga: Pick<SagaCount, 'total' | 'settled' | 'failed' | 'cancelled'>, failed: number): ChildrenOutcome {
  const succeeded = saga.settled - saga.failed - saga.cancelled;
  return { total: saga.total, succeeded, failed, cancelled: saga.total - succeeded - failed };
}

/** The parent's error under all-settled when subtasks failed or were cancelled: how many of each. */
export function subtasksFailed(children: ChildrenOutcome): JobError | null {
  if (children.failed === 0 && children.cancelled === 0) return null;
  const parts = [children.failed > 0 ? `${children.failed} failed` : '', children.cancelled > 0 ? `${children.cancelled} cancelled` : ''].filter(Boolean);
  return { type: 'saga', class: 'SubtasksFailed', message: `${parts.join(', ')} of ${children.total} subtasks` };
}

/** The error a saga cut short ends with (or tells its `always` merge). */
export function cutShortError(reason: CutReason, saga: Pick<SagaCount, 'total' | 'settled' | 'deadline_at'>, failures: readonly SubtaskFailure[]): JobError {
  switch (reason) {
    case 'deadline': {
      const deadline = saga.deadline_at ? new Date(saga.deadline_at).toISOString() : 'its deadline';
      const late = saga.settled < saga.total ? `${saga.total - saga.settled} of ${saga.total} subtasks had not reported` : 'the merge step had not finished';
      return { type: 'saga', class: 'SagaDeadlineExceeded', message: `${late} by ${deadline}` };
    }
    case 'fail-fast':
      return { type: 'saga', class: 'SubtaskFailed', message: `a subtask failed (fail-fast): ${failures[0]?.message ?? 'unknown error'}` };
    case 'cancelled':
      return { type: 'saga', class: 'JobCancelled', message: 'the job was cancelled' };
  }
}

/**
 * The outcome of a saga the coordinator merges itself: every subtask settled (`cut` null), or the saga was cut
 * short. Its result lists how the subtasks ended and every error; it succeeds only if every subtask did.
 */
export function concludedOutcome(
  saga: Pick<SagaCount, 'job_id' | 'total' | 'settled' | 'failed' | 'cancelled' | 'deadline_at'>,
  failures: readonly SubtaskFailure[],
  cut: 'fail-fast' | 'deadline' | null,
): SagaOutcome {
  const children = childrenOutcome(saga, failures.length);
  const error = cut ? cutShortError(cut, saga, failures) : subtasksFailed(children);
  return { id: saga.job_id, state: error ? 'failed' : 'succeeded', result: { children, errors: [...failures] }, error };
}

/**
 * The outcome of a saga whose merge job settled: the parent ends as the merge did — failed all the same if subtasks
 * did, unless the merge `decides` (then the merge's result is the parent's, beside the subtasks' tally).
 */
export function mergedOutcome(
  saga: Pick<SagaCount, 'job_id' | 'total' | 'settled' | 'failed' | 'cancelled' | 'merge'>,
  merge: { state: JobState; result: Record<string, unknown> | null; error: JobError | null },
  failures: readonly SubtaskFailure[],
): SagaOutcome {
  const children = childrenOutcome(saga, saga.failed);
  const mergeError: JobError | null =
    merge.state === 'succeeded'
      ? null
      : {
          type: 'saga',
          class: 'MergeFailed',
          message: `the merge step ${merge.state === 'cancelled' ? 'was cancelled' : `failed: ${merge.error?.message ?? 'unknown error'}`}`,
        };
  if (saga.merge?.decides) {
    return { id: saga.job_id, state: mergeError ? 'failed' : 'succeeded', result: { ...merge.result, children, errors: [...failures] }, error: mergeError };
  }
  const error = mergeError ?? subtasksFailed(children);
  return { id: saga.job_id, state: error ? 'failed' : 'succeeded', result: { children, errors: [...failures], merge: merge.result ?? merge.error }, error };
}

/**
 * The input of a saga's merge job: the declared input, and how the saga went — its subtasks' failures, and why it
 * was cut short when it was (the merge that runs `always` must still tell the portal and clean up).
 */
export function mergeInput(
  saga: Pick<SagaCount, 'job_id' | 'total' | 'merge'>,
  failures: readonly SubtaskFailure[] | undefined,
  cutShort: JobError | undefined,
): Record<string, unknown> {
  const errors = failures || cutShort ? [...(failures ?? []), ...(cutShort ? [{ jobId: saga.job_id, ...cutShort }] : [])] : undefined;
  return { ...saga.merge?.input, saga: { parentId: saga.job_id, subtasks: saga.total, ...(errors ? { errors } : {}) } };
}

const OUTCOME_ACTIONS: Record<FollowupOutcome, 'onSuccess' | 'onFailure'> = { succeeded: 'onSuccess', failed: 'onFailure' };

export type FollowupCommand = { key: 'followup.run'; payload: FollowupRunV1 } | { key: 'followup.ckan-callback'; payload: CkanCallbackV1 };

/**
 * What a job that reached a final state sets off: one `followup.run` per action of the outcome it reached
 * (`onSuccess` / `onFailure`; a cancelled job has neither), and the callback a job submitted through CKAN's
 * service-provider protocol owes its client, whatever its outcome.
 */
export function followupsOf(job: Pick<SettledJob, 'id' | 'state' | 'followups'>, owesCkanCallback: boolean): FollowupCommand[] {
  const commands: FollowupCommand[] = owesCkanCallback ? [{ key: 'followup.ckan-callback', payload: { jobId: job.id } }] : [];
  if (job.state !== 'succeeded' && job.state !== 'failed') return commands;
  const outcome: FollowupOutcome = job.state;
  const actions = job.followups?.[OUTCOME_ACTIONS[outcome]];
  if (Array.isArray(actions)) actions.forEach((_, index) => commands.push({ key: 'followup.run', payload: { jobId: job.id, outcome, index } }));
  return commands;
}
