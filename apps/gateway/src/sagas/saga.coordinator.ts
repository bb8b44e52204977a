import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { commandEnvelope, DATABASE_POOL_SIZE, eventEnvelope, type Envelope, type JobFanoutV1 } from '#shared';
import { InvalidRequestError } from '../common/domain-error.js';
import { MAX_SUBTASKS, typedInput, type Subtask } from '../job-model/job-types.js';
import { QueueFullError } from '../job-model/job.errors.js';
import type { JobError, JobRow, NewJob } from '../job-model/job.model.js';
import { OutboxRepository } from '../outbox/outbox.repository.js';
import {
  concludedOutcome,
  cutShortError,
  followupsOf,
  mergedOutcome,
  mergeInput,
  mergesWhenCutShort,
  nextStep,
  opensSaga,
  tallySettlements,
  type SagaStep,
  type SubtaskFailure,
} from './saga-decisions.js';
import { SagasRepository, type SagaCount, type SagaOutcome, type SagaPolicy, type Settlement, type SettledJob, type SettledMerge } from './sagas.repository.js';
import { OwnerQueueTally } from './owner-queue-tally.js';
import { sagaOptions, subtaskJobs } from './subtask-jobs.js';

/** Submissions of at most this many jobs may take an owner's queue lock shared (see SagaCoordinator.insert). */
export const FAST_PATH_JOBS = 10;

/** The room a shared-lock submission leaves for those in flight beside it through one gateway (one per connection). */
export const QUEUE_HEADROOM = FAST_PATH_JOBS * DATABASE_POOL_SIZE;

/** What opening a saga takes of its parent. */
type SagaParent = Pick<NewJob, 'id' | 'saga' | 'subtasks' | 'merge'>;

/** A saga with the id of the message that moved it (see Settlement). */
type CausedSaga = SagaCount & { causationId: string | null };

/** A declared job, validated as a job of its type (a service may declare any type a user could, and the internal ones). */
const declared = (subtask: Subtask, path: string): Subtask => ({
  type: subtask.type,
  input: JSON.parse(JSON.stringify(typedInput(subtask.type, subtask.input, path).input)) as Record<string, unknown>,
});

/** Settled jobs with the message that settled each. */
const settledBy = (jobs: SettledJob[], causationId: (job: SettledJob) => string | null): Settlement[] =>
  jobs.map((job) => ({ ...job, causationId: causationId(job) }));

/**
 * The saga coordinator. A parent job declares its subtasks when submitted; they are inserted with it, in one
 * transaction, and the parent runs while they do. Whoever moves jobs to a final state (the lifecycle-event
 * applier, a cancel, the deadline sweeper) hands them to `settled` inside that same transaction, which counts them
 * for their parents (a job leaves queued/running only once, so a redelivered completion is never counted twice),
 * then does what the saga's rules (saga-decisions.ts) say: merge a saga whose last subtask settled (itself, or by
 * starting the saga's merge job and finishing the parent when that settles), cut a fail-fast saga short at its first
 * failure, and write the followups of every job that reached its outcome to the outbox — so a followup is sent
 * exactly when, and only if, the outcome is committed. Everything it writes is caused by the message that settled
 * the job (its `causationId`).
 */
@Injectable()
export class SagaCoordinator {
  /** What this gateway knows of each owner's unfinished jobs, so that small submissions need not count them. */
  private readonly tally = new OwnerQueueTally();

  constructor(
    @Inject(SagasRepository) private readonly sagas: SagasRepository,
    @Inject(OutboxRepository) private readonly outbox: OutboxRepository,
  ) {}

  /**
   * Inserts jobs (duplicates skipped, as SagasRepository.insertJobs does) and, for those that declare subtasks,
   * their subtasks at every level and their saga rows — all in one transaction. Returns the rows inserted.
   *
   * With a `queueCap`, no owner of these jobs may end up with more unfinished top-level jobs than that; a submission
   * that would pass it is rolled back whole with a QueueFullError. Two ways, by the owner's advisory lock:
   * - a small submission (at most FAST_PATH_JOBS jobs) that finds room for itself and QUEUE_HEADROOM more takes the
   *   lock shared, so an owner's small submissions run side by side;
   * - any other takes it exclusive: it waits for the submissions in flight to commit, then inserts and counts alone,
   *   exactly.
   * Shared holders do not see each other's rows, but one gateway has at most DATABASE_POOL_SIZE of them in flight,
   * which the headroom holds: through one gateway the cap is never passed; through n gateways, by at most
   * (n - 1) × QUEUE_HEADROOM jobs. A job only ever leaves queued/running, so nothing counted comes back.
   *
   * Counting is an index scan of up to `queueCap` rows, the most of a submission's database time for an owner with
   * many jobs queued; so a small submission of one owner whose last count (at most QUEUE_COUNT_TTL_MS old) plus all
   * this gateway has inserted for it since (OwnerQueueTally) leaves the same room takes the shared lock without
   * counting. Through one gateway that bound is never below the truth, so the cap still holds exactly; through n
   * gateways it may also pass by what the others accepted for that owner since the last count, one second at most.
   */
  async insert(jobs: NewJob[], queueCap: number | null = null): Promise<JobRow[]> {
    const sagas = jobs.some((job) => job.subtasks && job.subtasks.length > 0);
    if (queueCap === null) {
      if (!sagas) return this.sagas.insertJobs(jobs); // one statement: no transaction needed
      return this.sagas.transaction((manager) => this.insertAll(manager, jobs, sagas));
    }
    const owners = [...new Set(jobs.map((job) => job.owner))].sort(); // in one order, so two submissions never deadlock
    const jobsOf = (owner: string) => jobs.filter((job) => job.owner === owner).length;
    if (jobs.length <= FAST_PATH_JOBS && owners.length === 1 && this.tally.reserve(owners[0], jobs.length, queueCap, QUEUE_HEADROOM)) {
      let inserted = 0;
      try {
        // shared, so that an exclusive submission still waits for it
        const rows = sagas
          ? await this.sagas.transaction(async (manager) => {
              await this.sagas.lockOwnerQueue(manager, owners[0], 'shared');
              return this.insertAll(manager, jobs, sagas);
            })
          : await this.sagas.insertJobs(jobs, undefined, owners[0]);
        inserted = rows.length;
        return rows;
      } finally {
        this.tally.release(owners[0], jobs.length, inserted);
      }
    }
    if (jobs.length <= FAST_PATH_JOBS) {
      const fast = await this.counting(owners, jobsOf, queueCap, 'before', (count) =>
        this.sagas.transaction(async (manager) => {
          for (const owner of owners) await this.sagas.lockOwnerQueue(manager, owner, 'shared');
          for (const owner of owners) {
            if (queueCap - (await count(manager, owner)) < jobsOf(owner) + QUEUE_HEADROOM) return null; // near the cap: the exact way
          }
          return this.insertAll(manager, jobs, sagas);
        }),
      );
      if (fast) return fast;
    }
    const rows = await this.counting(owners, jobsOf, queueCap, 'after', (count) =>
      this.sagas.transaction(async (manager) => {
        for (const owner of owners) await this.sagas.lockOwnerQueue(manager, owner, 'exclusive');
        const inserted = await this.insertAll(manager, jobs, sagas);
        if (inserted.length > 0) {
          for (const owner of owners) if ((await count(manager, owner)) > queueCap) throw new QueueFullError(owner, queueCap);
        }
        return inserted;
      }),
    );
    return rows;
  }

  /**
   * Runs a submission that counts its owners' unfinished jobs (`count`, up to `queueCap` and one), keeping this gateway's
   * tally of them: what it counted, taken `before` or `after` its own rows were inserted, stands in for the next small
   * submissions; a submission that fails or counts nothing leaves the tally as it was.
   */
  private async counting<Rows extends JobRow[] | null>(
    owners: string[],
    jobsOf: (owner: string) => number,
    queueCap: number,
    taken: 'before' | 'after',
    run: (count: (manager: EntityManager, owner: string) => Promise<number>) => Promise<Rows>,
  ): Promise<Rows> {
    const marks = new Map(owners.map((owner) => [owner, this.tally.mark(owner, jobsOf(owner))]));
    const counts = new Map<string, number>();
    let rows: Rows | null = null;
    try {
      rows = await run(async (manager, owner) => {
        const count = await this.sagas.unfinishedTopLevel(manager, owner, queueCap + 1);
        counts.set(owner, count);
        return count;
      });
      return rows;
    } finally {
      for (const [owner, mark] of marks) {
        const counted = counts.get(owner);
        if (!rows || counted === undefined) this.tally.abandoned(owner, mark);
        // counted after the insert, its own rows are in the count already
        else this.tally.counted(owner, mark, counted, taken === 'before' ? rows.filter((row) => row.owner === owner).length : 0);
      }
    }
  }

  /** Inserts jobs and opens the sagas of those that declare subtasks; returns the rows inserted, as they are now. */
  private async insertAll(manager: EntityManager, jobs: NewJob[], sagas: boolean): Promise<JobRow[]> {
    const rows = await this.sagas.insertJobs(jobs, manager);
    if (!sagas) return rows;
    const inserted = new Set(rows.map((row) => row.id));
    await this.openSagas(
      manager,
      jobs.filter((job) => inserted.has(job.id) && job.subtasks && job.subtasks.length > 0),
    );
    return this.sagas.findByIds(manager, [...inserted]); // a saga parent's row changed as its saga opened
  }

  /**
   * A caller cancels a queued or running job: it and everything below it are cancelled, `job.cancelled` is written
   * for each (no message caused it: a request from outside), and they settle for their sagas. Returns the ids it
   * cancelled (none when the job had already finished).
   */
  cancel(jobId: string): Promise<string[]> {
    // a cancel walking a saga down and the event applier settling its subtasks may lock the same rows in turn
    return this.sagas.transactionRetryingDeadlocks(async (manager) => {
      const cancelled = await this.cancelTrees(manager, [jobId], { roots: true, skipLocked: false }, null);
      await this.cancelled(manager, cancelled);
      return cancelled.map((job) => job.id);
    });
  }

  /**
   * Jobs that fanned out (`job.fanout`), in the applier's transaction: their subtasks, validated as jobs of their
   * types, and their saga rows are inserted at once, so the subtasks start when it commits. A job that has ended,
   * or is already a saga (a redelivered fan-out), is left as it is (opensSaga); a fan-out declaring jobs that cannot be
   * run fails its job, saying why. Returns the jobs that changed.
   */
  async fanOut(manager: EntityManager, fanouts: Envelope<JobFanoutV1>[]): Promise<string[]> {
    if (fanouts.length === 0) return [];
    const parents = new Map(
      (
        await this.sagas.fanoutParents(
          manager,
          fanouts.map((fanout) => fanout.payload.jobId),
        )
      ).map((row) => [row.id, row]),
    );
    const sagaParents: SagaParent[] = [];
    const invalid: SagaOutcome[] = [];
    const causes = new Map<string, string>();
    for (const { id: causationId, payload: fanout } of fanouts) {
      const parent = parents.get(fanout.jobId);
      if (!parent || !opensSaga(parent) || causes.has(fanout.jobId)) continue;
      causes.set(parent.id, causationId);
      try {
        const subtasks = fanout.subtasks.map((subtask, index) => declared(subtask, `subtasks[${index}].`));
        const merge = fanout.merge && {
          ...declared(fanout.merge, 'merge.'),
          ...(fanout.merge.always ? { always: true } : {}),
          ...(fanout.merge.always && fanout.merge.decides ? { decides: true } : {}),
        };
        const job = { id: parent.id, saga: sagaOptions(fanout) };
        const origin = { budget: { left: MAX_SUBTASKS }, path: 'fanout.', maxSubtasks: MAX_SUBTASKS, causationId };
        sagaParents.push({ ...job, subtasks: subtaskJobs(parent.owner, job, subtasks, origin), merge });
      } catch (error) {
        // whatever the declaration's fault, the job fails saying why, rather than the batch of events failing forever
        const reasons = error instanceof InvalidRequestError ? error.problems.join('; ') : (error as Error).message;
        const message = `the job fanned out to work that cannot run: ${reasons}`;
        invalid.push({ id: parent.id, state: 'failed', result: {}, error: { type: 'saga', class: 'InvalidFanout', message } });
      }
    }
    await this.openSagas(manager, sagaParents);
    const failed = await this.sagas.finish(manager, invalid);
    await this.settled(
      manager,
      settledBy(failed, (job) => causes.get(job.id) ?? null),
    );
    return [...sagaParents.map((job) => job.id), ...failed.map((job) => job.id)];
  }

  /** Jobs that just reached a final state, in the transaction that moved them: count, merge, cut, follow up. */
  async settled(manager: EntityManager, jobs: Settlement[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.followUp(manager, jobs);

    const subtasks = jobs.filter((job) => job.parent_id);
    if (subtasks.length === 0) return;
    const causes = new Map(subtasks.map((job) => [job.id, job.causationId]));
    const merges = await this.sagas.settledMerges(
      manager,
      subtasks.map((job) => job.id),
    );
    const tallies = tallySettlements(subtasks, new Set(merges.map((merge) => merge.saga.merge_job_id!)));
    // a saga moved by several subtasks of one batch: the last one's message is the cause of what follows
    const parentCauses = new Map(subtasks.map((job) => [job.parent_id!, job.causationId]));
    const counted: CausedSaga[] =
      tallies.length > 0 ? (await this.sagas.count(manager, tallies)).map((saga) => ({ ...saga, causationId: parentCauses.get(saga.job_id) ?? null })) : [];
    const steps = counted.map((saga) => ({ saga, step: nextStep(saga) }));
    const of = (step: SagaStep) => steps.filter((entry) => entry.step === step).map((entry) => entry.saga);

    await this.startMerges(manager, of('merge'));
    await this.conclude(manager, of('conclude'), of('cut-short'), 'fail-fast');
    const running = merges.filter((merge) => merge.saga.parent_state === 'running');
    await this.concludeMerged(manager, running, (merge) => causes.get(merge.saga.merge_job_id!) ?? null);
  }

  /** Fails sagas past their deadline (the sweeper's transaction holds their rows); a timer, not a message, caused it. */
  async expire(manager: EntityManager, overdue: SagaCount[]): Promise<void> {
    await this.conclude(
      manager,
      [],
      overdue.map((saga) => ({ ...saga, causationId: null })),
      'deadline',
    );
  }

  /** Jobs a caller cancelled (with everything below them): their sagas close, they count for their parents, and a merge that runs `always` starts. */
  private async cancelled(manager: EntityManager, jobs: Settlement[]): Promise<void> {
    if (jobs.length === 0) return;
    const ids = jobs.map((job) => job.id);
    await this.sagas.close(manager, ids);
    await this.settled(manager, jobs);
    const sagas = (await this.sagas.unmergedAlways(manager, ids)).map((saga) => ({ ...saga, causationId: null }));
    await this.startMerges(manager, sagas, new Map(sagas.map((saga) => [saga.job_id, cutShortError('cancelled', saga, [])])));
  }

  /** Cancels the trees of these jobs, writing `job.cancelled` for each job cancelled. */
  private async cancelTrees(
    manager: EntityManager,
    rootIds: string[],
    scope: { roots: boolean; skipLocked: boolean },
    causationId: string | null,
  ): Promise<Settlement[]> {
    const cancelled = await this.sagas.cancelTree(manager, rootIds, scope);
    await this.outbox.enqueue(
      manager,
      cancelled.map((job) => eventEnvelope('job.cancelled', { jobId: job.id }, { correlationId: job.id, causationId })),
    );
    return settledBy(cancelled, () => causationId);
  }

  private async insertTree(manager: EntityManager, jobs: NewJob[]): Promise<Set<string>> {
    const inserted = new Set((await this.sagas.insertJobs(jobs, manager)).map((row) => row.id));
    await this.openSagas(
      manager,
      jobs.filter((job) => inserted.has(job.id) && job.subtasks && job.subtasks.length > 0),
    );
    return inserted;
  }

  /** Inserts the subtasks of these parents, at every level, and opens their sagas. */
  private async openSagas(manager: EntityManager, sagaParents: SagaParent[]): Promise<void> {
    let parents = sagaParents;
    while (parents.length > 0) {
      const children = parents.flatMap((parent) => parent.subtasks!);
      await this.sagas.insertJobs(children, manager);
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
   * Starts the merge jobs of these sagas: children of the parent not counted as subtasks, told how the subtasks
   * ended and, for a saga cut short (`cutShort`), why — the parent's outcome is written by then and stays.
   */
  private async startMerges(manager: EntityManager, sagas: CausedSaga[], cutShort = new Map<string, JobError>()): Promise<void> {
    if (sagas.length === 0) return;
    const failures = await this.failuresOf(manager, sagas);
    const mergeJobs = sagas.map((saga) => {
      const input = mergeInput(saga, failures.get(saga.job_id), cutShort.get(saga.job_id));
      const parent = { id: saga.job_id, saga: { policy: saga.policy } };
      const origin = { budget: { left: Infinity }, path: 'merge.', maxSubtasks: Infinity, causationId: saga.causationId };
      return subtaskJobs(saga.parent_owner, parent, [{ type: saga.merge!.type, input }], origin)[0];
    });
    await this.insertTree(manager, mergeJobs);
    await this.sagas.merging(
      manager,
      sagas.map((saga, index) => ({ parentId: saga.job_id, mergeJobId: mergeJobs[index].id })),
    );
  }

  /** The errors of the failed subtasks of those sagas that had failed or cancelled ones (one query for them all). */
  private async failuresOf(manager: EntityManager, sagas: SagaCount[]): Promise<Map<string, SubtaskFailure[]>> {
    const failing = sagas.filter((saga) => saga.failed > 0 || saga.cancelled > 0).map((saga) => saga.job_id);
    const failures = failing.length > 0 ? await this.sagas.childFailures(manager, failing) : new Map<string, SubtaskFailure[]>();
    return new Map(failing.map((id) => [id, failures.get(id) ?? []]));
  }

  /** Merge jobs settled: their parents end as they did. */
  private async concludeMerged(manager: EntityManager, merges: SettledMerge[], causeOf: (merge: SettledMerge) => string | null): Promise<void> {
    if (merges.length === 0) return;
    const failures = await this.failuresOf(
      manager,
      merges.map(({ saga }) => saga),
    );
    const outcomes = merges.map((merge) => mergedOutcome(merge.saga, merge, failures.get(merge.saga.job_id) ?? []));
    const causes = new Map(merges.map((merge) => [merge.saga.job_id, causeOf(merge)]));
    await this.settled(
      manager,
      settledBy(await this.sagas.finish(manager, outcomes), (job) => causes.get(job.id) ?? null),
    );
  }

  /**
   * The coordinator's own merge step, for sagas whose subtasks all settled (`complete`) and for sagas cut short
   * (`cuts`, for `reason`). A cut saga then cancels what is still out below it, and starts its merge if that runs
   * `always`.
   */
  private async conclude(manager: EntityManager, complete: CausedSaga[], cuts: CausedSaga[], reason: 'fail-fast' | 'deadline'): Promise<void> {
    if (complete.length === 0 && cuts.length === 0) return;
    const cutIds = new Set(cuts.map((saga) => saga.job_id));
    const all = [...complete, ...cuts];
    const failures = await this.sagas.childFailures(
      manager,
      all.map((saga) => saga.job_id),
    );
    const outcomes = all.map((saga) => concludedOutcome(saga, failures.get(saga.job_id) ?? [], cutIds.has(saga.job_id) ? reason : null));
    const causes = new Map(all.map((saga) => [saga.job_id, saga.causationId]));
    const finished = settledBy(await this.sagas.finish(manager, outcomes), (job) => causes.get(job.id) ?? null);
    const finishedIds = new Set(finished.map((job) => job.id));
    const cutShort = cuts.filter((saga) => finishedIds.has(saga.job_id));
    // after the parents are final, so counting these cancellations merges nothing twice; one statement per cause
    for (const causationId of new Set(cutShort.map((saga) => saga.causationId))) {
      const roots = cutShort.filter((saga) => saga.causationId === causationId).map((saga) => saga.job_id);
      await this.settled(manager, await this.cancelTrees(manager, roots, { roots: false, skipLocked: true }, causationId));
    }
    const why = new Map(outcomes.filter((outcome) => outcome.error && cutIds.has(outcome.id)).map((outcome) => [outcome.id, outcome.error!]));
    await this.startMerges(manager, cutShort.filter(mergesWhenCutShort), why); // after cancelTrees, which would cancel them too
    await this.settled(manager, finished); // nested sagas: the parent is a subtask of its own parent
  }

  /** Writes what the settled jobs set off (followupsOf) to the outbox, caused by what settled them. */
  private async followUp(manager: EntityManager, jobs: Settlement[]): Promise<void> {
    await this.outbox.enqueue(
      manager,
      jobs.flatMap((job) =>
        followupsOf(job, job.owes_ckan_callback).map((command) =>
          commandEnvelope(command.key, command.payload, { correlationId: job.id, causationId: job.causationId }),
        ),
      ),
    );
  }
}
