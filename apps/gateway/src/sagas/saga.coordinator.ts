import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { commandEnvelope, eventEnvelope, EXCHANGES, type Envelope, type FollowupOutcome, type JobFanoutV1 } from '#shared';
import { MAX_SUBTASKS, typedInput, type Subtask } from '../jobs/job-types.js';
import type { JobError, JobRow } from '../jobs/job.model.js';
import { JobsRepository, type NewJob } from '../jobs/jobs.repository.js';
import { SagasRepository, type SagaCount, type SagaOutcome, type SagaPolicy, type SettledJob, type SettledMerge } from './sagas.repository.js';
import { subtaskJobs } from './subtask-jobs.js';

/** What opening a saga takes of its parent. */
type SagaParent = Pick<NewJob, 'id' | 'saga' | 'subtasks' | 'merge'>;

/** How a saga ended early: a subtask failed under fail-fast, or the deadline passed. */
type Cut = { saga: SagaCount; reason: 'fail-fast' | 'deadline' };

const OUTCOME_ACTIONS: Record<FollowupOutcome, 'onSuccess' | 'onFailure'> = { succeeded: 'onSuccess', failed: 'onFailure' };

/** How a saga's subtasks ended, from its counters. */
const childrenOf = (saga: SagaCount, failed: number) => {
  const succeeded = saga.settled - saga.failed - saga.cancelled;
  return { total: saga.total, succeeded, failed, cancelled: saga.total - succeeded - failed };
};

/** The parent's error when subtasks failed or were cancelled (all-settled): how many of each. */
const subtasksFailed = (children: ReturnType<typeof childrenOf>): JobError | null => {
  if (children.failed === 0 && children.cancelled === 0) return null;
  const parts = [children.failed > 0 ? `${children.failed} failed` : '', children.cancelled > 0 ? `${children.cancelled} cancelled` : ''].filter(Boolean);
  return { type: 'saga', class: 'SubtasksFailed', message: `${parts.join(', ')} of ${children.total} subtasks` };
};

/** A declared job, validated as a job of its type (a service may declare any type a user could, and the internal ones). */
const declared = (subtask: Subtask, path: string): Subtask => ({
  type: subtask.type,
  input: JSON.parse(JSON.stringify(typedInput(subtask.type, subtask.input, path).input)) as Record<string, unknown>,
});

/**
 * The saga coordinator. A parent job declares its subtasks when submitted; they are inserted with it, in one
 * transaction, and the parent runs while they do. Whoever moves jobs to a final state (the lifecycle-event
 * applier, a cancel, the deadline sweeper) hands them to `settled` inside that same transaction, which:
 * counts them for their parents (one row per parent and batch; a job leaves queued/running only once, so a
 * redelivered completion is never counted twice), merges a saga whose last subtask settled (itself, or by
 * starting the saga's merge job and finishing the parent when that settles), cuts a fail-fast saga short at
 * its first failure, and writes the followups of every job that reached its outcome to the outbox — so a
 * followup is sent exactly when, and only if, the outcome is committed.
 */
@Injectable()
export class SagaCoordinator {
  constructor(
    @Inject(SagasRepository) private readonly sagas: SagasRepository,
    @Inject(JobsRepository) private readonly jobs: JobsRepository,
  ) {}

  /**
   * Inserts jobs (duplicates skipped, as JobsRepository.insert does) and, for those that declare subtasks,
   * their subtasks at every level and their saga rows — all in one transaction. Returns the rows inserted.
   */
  insert(jobs: NewJob[]): Promise<JobRow[]> {
    if (!jobs.some((job) => job.subtasks && job.subtasks.length > 0)) return this.jobs.insert(jobs); // one statement: no transaction needed
    return this.sagas.transaction(async (manager) => this.jobs.findByIds([...(await this.insertTree(manager, jobs))], manager));
  }

  /**
   * Running jobs that fanned out (`job.fanout`), in the applier's transaction: their subtasks, validated as jobs of
   * their types, and their saga rows are inserted at once, so the subtasks start when it commits. A job no longer
   * running, or already a saga (a redelivered fan-out), is left as it is; a fan-out declaring jobs that cannot be
   * run fails its job, saying why. Returns the jobs that changed.
   */
  async fanOut(manager: EntityManager, fanouts: JobFanoutV1[]): Promise<string[]> {
    if (fanouts.length === 0) return [];
    const parents = new Map((await this.sagas.fanoutParents(manager, fanouts.map((fanout) => fanout.jobId))).map((row) => [row.id, row]));
    const sagaParents: SagaParent[] = [];
    const invalid: SagaOutcome[] = [];
    for (const fanout of fanouts) {
      const parent = parents.get(fanout.jobId);
      if (!parent || parent.state !== 'running' || parent.is_saga || sagaParents.some((job) => job.id === fanout.jobId)) continue;
      try {
        const subtasks = fanout.subtasks.map((subtask, index) => declared(subtask, `subtasks[${index}].`));
        const merge = fanout.merge && { ...declared(fanout.merge, 'merge.'), ...(fanout.merge.always ? { always: true } : {}) };
        const job = { id: parent.id, saga: { policy: fanout.policy ?? 'all-settled', ...(fanout.deadlineSeconds ? { deadlineSeconds: fanout.deadlineSeconds } : {}) } };
        sagaParents.push({ ...job, subtasks: subtaskJobs(parent.owner, job, subtasks, { left: MAX_SUBTASKS }, 'fanout.', MAX_SUBTASKS), merge });
      } catch (error) {
        const reasons = error instanceof BadRequestException ? (error.getResponse() as { message: string | string[] }).message : (error as Error).message;
        const message = `the job fanned out to work that cannot run: ${[reasons].flat().join('; ')}`;
        invalid.push({ id: parent.id, state: 'failed', result: {}, error: { type: 'saga', class: 'InvalidFanout', message } });
      }
    }
    await this.openSagas(manager, sagaParents);
    const failed = await this.sagas.finish(manager, invalid);
    await this.settled(manager, failed);
    return [...sagaParents.map((job) => job.id), ...failed.map((job) => job.id)];
  }

  /** Jobs that just reached a final state, in the transaction that moved them: count, merge, cut, follow up. */
  async settled(manager: EntityManager, jobs: SettledJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.followUp(manager, jobs);

    const subtasks = jobs.filter((job) => job.parent_id);
    if (subtasks.length === 0) return;
    const merges = await this.sagas.settledMerges(manager, subtasks.map((job) => job.id));
    const mergeJobs = new Set(merges.map((merge) => merge.saga.merge_job_id));

    const perParent = new Map<string, { parentId: string; settled: number; failed: number; cancelled: number }>();
    for (const job of subtasks) {
      if (mergeJobs.has(job.id)) continue; // a merge job is not one of the subtasks
      const entry = perParent.get(job.parent_id!) ?? { parentId: job.parent_id!, settled: 0, failed: 0, cancelled: 0 };
      entry.settled++;
      if (job.state === 'failed') entry.failed++;
      if (job.state === 'cancelled') entry.cancelled++;
      perParent.set(job.parent_id!, entry);
    }
    const counted = perParent.size > 0 ? (await this.sagas.count(manager, [...perParent.values()])).filter((saga) => saga.parent_state === 'running') : [];
    const complete = counted.filter((saga) => saga.settled >= saga.total);
    const toMerge = complete.filter((saga) => saga.merge && !saga.merge_job_id && (saga.merge.always || (saga.failed === 0 && saga.cancelled === 0)));
    const cut = counted.filter((saga) => saga.settled < saga.total && saga.policy === 'fail-fast' && saga.failed > 0);

    await this.startMerges(manager, toMerge);
    await this.conclude(
      manager,
      complete.filter((saga) => !toMerge.includes(saga)),
      cut.map((saga) => ({ saga, reason: 'fail-fast' })),
    );
    await this.concludeMerged(manager, merges.filter((merge) => merge.saga.parent_state === 'running'));
  }

  /** Jobs a caller cancelled (with everything below them): their sagas close, and they count for their parents. */
  async cancelled(manager: EntityManager, jobs: SettledJob[]): Promise<void> {
    const ids = jobs.map((job) => job.id);
    await this.sagas.close(manager, ids);
    await this.settled(manager, jobs);
    const cancelled: JobError = { type: 'saga', class: 'JobCancelled', message: 'the job was cancelled' };
    const sagas = await this.sagas.unmergedAlways(manager, ids);
    await this.startMerges(manager, sagas, new Map(sagas.map((saga) => [saga.job_id, cancelled])));
  }

  /** Fails sagas past their deadline (the sweeper's transaction holds their rows). */
  async expire(manager: EntityManager, overdue: SagaCount[]): Promise<void> {
    await this.conclude(manager, [], overdue.map((saga) => ({ saga, reason: 'deadline' })));
  }

  private async insertTree(manager: EntityManager, jobs: NewJob[]): Promise<Set<string>> {
    const inserted = new Set((await this.jobs.insert(jobs, manager)).map((row) => row.id));
    await this.openSagas(manager, jobs.filter((job) => inserted.has(job.id) && job.subtasks && job.subtasks.length > 0));
    return inserted;
  }

  /** Inserts the subtasks of these parents, at every level, and opens their sagas. */
  private async openSagas(manager: EntityManager, sagaParents: SagaParent[]): Promise<void> {
    let parents = sagaParents;
    while (parents.length > 0) {
      const children = parents.flatMap((parent) => parent.subtasks!);
      await this.jobs.insert(children, manager);
      await this.sagas.open(
        manager,
        parents.map((parent) => ({
          jobId: parent.id,
          policy: (parent.saga?.policy as SagaPolicy | undefined) ?? 'all-settled',
          total: parent.subtasks!.length,
          deadlineSeconds: typeof parent.saga?.deadlineSeconds === 'number' ? parent.saga.deadlineSeconds : null,
          merge: parent.merge ?? null,
        })),
      );
      parents = children.filter((child) => child.subtasks && child.subtasks.length > 0);
    }
  }

  /**
   * Every subtask succeeded (or all settled, for a merge that runs `always`): the merge job starts, a child of the
   * parent not counted as a subtask, told how the subtasks ended. A merge that runs `always` also starts when its
   * saga is cut short (`cutShort`: the deadline, fail-fast, the parent cancelled), told why, so that it can still
   * tell the portal and clean up; the parent's outcome is written by then and stays.
   */
  private async startMerges(manager: EntityManager, sagas: SagaCount[], cutShort = new Map<string, JobError>()): Promise<void> {
    if (sagas.length === 0) return;
    const errors = await this.failuresOf(manager, sagas);
    const mergeJobs = sagas.map((saga) => {
      const known = errors.get(saga.job_id);
      const cut = cutShort.get(saga.job_id);
      const failures = known || cut ? [...(known ?? []), ...(cut ? [{ jobId: saga.job_id, ...cut }] : [])] : undefined;
      const summary = { parentId: saga.job_id, subtasks: saga.total, ...(failures ? { errors: failures } : {}) };
      const input = { ...saga.merge!.input, saga: summary };
      const parent = { id: saga.job_id, saga: { policy: saga.policy } };
      return subtaskJobs(saga.parent_owner, parent, [{ type: saga.merge!.type, input }], { left: Infinity }, 'merge.', Infinity)[0];
    });
    await this.insertTree(manager, mergeJobs);
    await this.sagas.merging(manager, sagas.map((saga, index) => ({ parentId: saga.job_id, mergeJobId: mergeJobs[index].id })));
  }

  /** The errors of the failed subtasks of those sagas that had failed or cancelled ones (one query for them all). */
  private async failuresOf(manager: EntityManager, sagas: SagaCount[]): Promise<Map<string, (JobError & { jobId: string })[]>> {
    const failing = sagas.filter((saga) => saga.failed > 0 || saga.cancelled > 0).map((saga) => saga.job_id);
    const errors = failing.length > 0 ? await this.sagas.childErrors(manager, failing) : new Map<string, { jobId: string; error: JobError }[]>();
    return new Map(failing.map((id) => [id, (errors.get(id) ?? []).map(({ jobId, error }) => ({ jobId, ...error }))]));
  }

  /** A merge job settled: the parent ends as it did (failed all the same if subtasks did), with its result. */
  private async concludeMerged(manager: EntityManager, merges: SettledMerge[]): Promise<void> {
    if (merges.length === 0) return;
    const errors = await this.failuresOf(manager, merges.map(({ saga }) => saga));
    const outcomes: SagaOutcome[] = merges.map(({ saga, state, result, error }) => {
      const children = childrenOf(saga, saga.failed);
      const mergeError: JobError | null =
        state === 'succeeded'
          ? null
          : { type: 'saga', class: 'MergeFailed', message: `the merge step ${state === 'cancelled' ? 'was cancelled' : `failed: ${error?.message ?? 'unknown error'}`}` };
      const failure = mergeError ?? subtasksFailed(children);
      return {
        id: saga.job_id,
        state: failure ? 'failed' : 'succeeded',
        result: { children, errors: errors.get(saga.job_id) ?? [], merge: result ?? error },
        error: failure,
      };
    });
    await this.settled(manager, await this.sagas.finish(manager, outcomes));
  }

  /**
   * The coordinator's own merge step: a saga's result lists how its subtasks ended and every error; the
   * parent succeeds only if every subtask did. A cut saga then cancels what is still out below it.
   */
  private async conclude(manager: EntityManager, complete: SagaCount[], cuts: Cut[]): Promise<void> {
    if (complete.length === 0 && cuts.length === 0) return;
    const all = [...complete.map((saga) => ({ saga, reason: null })), ...cuts];
    const errors = await this.sagas.childErrors(manager, all.map((entry) => entry.saga.job_id));
    const outcomes: SagaOutcome[] = all.map(({ saga, reason }) => {
      const childErrors = errors.get(saga.job_id) ?? [];
      const children = childrenOf(saga, childErrors.length);
      const result = { children, errors: childErrors.map(({ jobId, error }) => ({ jobId, ...error })) };
      let error: JobError | null = null;
      if (reason === 'deadline') {
        const deadline = saga.deadline_at ? new Date(saga.deadline_at).toISOString() : 'its deadline';
        const late = saga.settled < saga.total ? `${saga.total - saga.settled} of ${saga.total} subtasks had not reported` : 'the merge step had not finished';
        error = { type: 'saga', class: 'SagaDeadlineExceeded', message: `${late} by ${deadline}` };
      } else if (reason === 'fail-fast') {
        error = { type: 'saga', class: 'SubtaskFailed', message: `a subtask failed (fail-fast): ${childErrors[0]?.error.message ?? 'unknown error'}` };
      } else {
        error = subtasksFailed(children);
      }
      return { id: saga.job_id, state: error ? 'failed' : 'succeeded', result, error };
    });
    const finished = await this.sagas.finish(manager, outcomes);
    const finishedIds = new Set(finished.map((job) => job.id));
    const cutParents = cuts.map((cut) => cut.saga.job_id).filter((id) => finishedIds.has(id));
    if (cutParents.length > 0) {
      // after the parents are final, so counting these cancellations merges nothing twice
      const cancelled = await this.sagas.cancelBelow(manager, cutParents, (jobId) => this.cancelledEvent(jobId));
      await this.settled(manager, cancelled);
      const why = new Map(outcomes.filter((outcome) => outcome.error && cutParents.includes(outcome.id)).map((outcome) => [outcome.id, outcome.error!]));
      const cutSagas = cuts.map((cut) => cut.saga).filter((saga) => cutParents.includes(saga.job_id) && saga.merge?.always && !saga.merge_job_id);
      await this.startMerges(manager, cutSagas, why); // after cancelBelow, which would cancel them too
    }
    await this.settled(manager, finished); // nested sagas: the parent is a subtask of its own parent
  }

  /**
   * Writes one `followup.run` command per action of the outcome each job reached, and the callback a job
   * submitted through CKAN's service-provider protocol owes its client, whatever its outcome.
   */
  private async followUp(manager: EntityManager, jobs: SettledJob[]): Promise<void> {
    const commands: Envelope<unknown>[] = [];
    for (const jobId of await this.jobs.ckanJobs(manager, jobs.map((job) => job.id))) {
      commands.push(commandEnvelope('followup.ckan-callback', { jobId }, { correlationId: jobId }));
    }
    for (const job of jobs) {
      if (job.state !== 'succeeded' && job.state !== 'failed') continue;
      const actions = job.followups?.[OUTCOME_ACTIONS[job.state]];
      if (!Array.isArray(actions)) continue;
      actions.forEach((_, index) =>
        commands.push(
          commandEnvelope('followup.run', { jobId: job.id, outcome: job.state as FollowupOutcome, index }, {
            correlationId: job.id,
          }),
        ),
      );
    }
    await this.sagas.enqueue(manager, EXCHANGES.commands, commands);
  }

  cancelledEvent(jobId: string): Envelope<unknown> {
    return eventEnvelope('job.cancelled', { jobId }, { correlationId: jobId });
  }
}
