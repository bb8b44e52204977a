import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { eventEnvelope, fingerprint, type EventEnvelope } from '#shared';
import type { NewJob } from '../../apps/gateway/src/job-model/job.model.js';
import { JobEventsApplier } from '../../apps/gateway/src/jobs/job-events.applier.js';
import type { OutboxRelay } from '../../apps/gateway/src/outbox/outbox.relay.js';
import { OutboxRepository } from '../../apps/gateway/src/outbox/outbox.repository.js';
import { SagaCoordinator } from '../../apps/gateway/src/sagas/saga.coordinator.js';
import { SagasRepository } from '../../apps/gateway/src/sagas/sagas.repository.js';
import { sagaOptions, subtaskJobs } from '../../apps/gateway/src/sagas/subtask-jobs.js';
import { createTestContext, type TestContext } from '../harness/context.js';

type Completion = EventEnvelope<'job.succeeded'> | EventEnvelope<'job.failed'>;

/** One delivery of a job's completion: the same message again (a redelivery), or another (the job ran twice). */
interface Delivery {
  job: number;
  again: boolean;
  succeeded: boolean;
  /** Which gateway's applier takes it (three, each batching and committing on its own). */
  gateway: number;
  /** Wait for everything delivered so far to commit before the next delivery. */
  settle: boolean;
}

const delivery = (jobs: number) =>
  fc.record({
    job: fc.nat({ max: jobs - 1 }),
    again: fc.boolean(),
    succeeded: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }),
    gateway: fc.nat({ max: 2 }),
    settle: fc.boolean(),
  });

/** Per job, at least one delivery; then any number more, shuffled into any order. */
const deliveries = (jobs: number): fc.Arbitrary<Delivery[]> =>
  fc
    .tuple(
      fc.tuple(...Array.from({ length: jobs }, (_, job) => delivery(jobs).map((first) => ({ ...first, job, again: false })))),
      fc.array(delivery(jobs), { maxLength: 2 * jobs }),
    )
    .chain(([firsts, more]) => fc.shuffledSubarray([...firsts, ...more], { minLength: firsts.length + more.length }));

/**
 * The saga counter against PostgreSQL, by property: sagas of 1 to 6 subtasks, with or without a merge step and under
 * either policy, get their subtasks' completions duplicated (redelivered, or sent again by a job that ran twice, with
 * maybe another outcome), reordered and spread over three gateways' event appliers committing concurrently — the
 * real JobEventsApplier and SagaCoordinator. Whatever the interleaving: every subtask is counted once, at most one
 * merge job starts (exactly one when the saga's rules call for it), the parent reaches one outcome once, and its
 * followup is written to the outbox once.
 */
describe('saga counter under duplicated and reordered completions (property, real PostgreSQL)', () => {
  let context: TestContext;
  let db: DataSource;
  let appliers: JobEventsApplier[];
  let coordinator: SagaCoordinator;

  beforeAll(async () => {
    context = await createTestContext();
    db = new DataSource({ type: 'postgres', url: context.databaseUrls.gateway, synchronize: false, extra: { max: 10 } });
    await db.initialize();
    const outbox = new OutboxRepository();
    coordinator = new SagaCoordinator(new SagasRepository(db, outbox), outbox);
    // the relay would publish the outbox to RabbitMQ; here the outbox rows are what the test counts
    const relay = { kick: () => undefined } as unknown as OutboxRelay;
    appliers = [0, 1, 2].map(() => new JobEventsApplier(db, relay, outbox, coordinator));
  });

  afterAll(async () => {
    await db?.destroy();
    await context?.dispose();
  });

  const completion = (jobId: string, succeeded: boolean): Completion =>
    succeeded
      ? eventEnvelope('job.succeeded', { jobId, result: { ok: true } }, { correlationId: jobId, causationId: null })
      : eventEnvelope(
          'job.failed',
          { jobId, error: { type: 'noop', class: 'NoopFailure', message: `job ${jobId} failed` } },
          { correlationId: jobId, causationId: null },
        );

  /** Delivers the completions of `jobIds` as `plan` says; resolves once every delivery is committed. */
  async function deliver(jobIds: string[], plan: Delivery[]): Promise<void> {
    const sent = new Map<number, Completion>();
    const pending: Promise<void>[] = [];
    for (const step of plan) {
      const previous = sent.get(step.job);
      const message = step.again && previous ? previous : completion(jobIds[step.job], step.succeeded);
      sent.set(step.job, message);
      pending.push(appliers[step.gateway].apply(message));
      if (step.settle) await Promise.all(pending);
    }
    await Promise.all(pending);
  }

  const query = <T>(sql: string, params: unknown[]): Promise<T[]> => db.query(sql, params);

  it('counts each subtask once, merges at most once, and ends the parent once with one followup', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }).chain((total) =>
          fc.record({
            total: fc.constant(total),
            policy: fc.constantFrom('all-settled' as const, 'fail-fast' as const),
            merge: fc.constantFrom('none' as const, 'on-success' as const, 'always' as const),
            subtasks: deliveries(total),
            merges: deliveries(1),
          }),
        ),
        async ({ total, policy, merge, subtasks, merges }) => {
          const id = randomUUID();
          const input = { service: 'geo', children: total, tag: id };
          const parent: NewJob = {
            id,
            type: 'noop',
            input,
            inputFingerprint: fingerprint(input),
            idempotencyKey: null,
            followups: { onSuccess: [{ type: 'analytics', event: 'saga done' }], onFailure: [{ type: 'analytics', event: 'saga failed' }] },
            saga: sagaOptions({ policy }),
            owner: 'property',
            parentId: null,
            ckan: null,
            command: null,
            ...(merge === 'none' ? {} : { merge: { type: 'noop', input: { service: 'geo' }, ...(merge === 'always' ? { always: true } : {}) } }),
          };
          parent.subtasks = subtaskJobs(
            'property',
            parent,
            Array.from({ length: total }, (_, index) => ({ type: 'noop', input: { service: 'geo', index } })),
            { budget: { left: total }, path: '', maxSubtasks: total, causationId: null },
          );
          await coordinator.insert([parent]);
          const subtaskIds = parent.subtasks.map((subtask) => subtask.id);

          await deliver(subtaskIds, subtasks);
          const [saga] = await query<{ settled: number; failed: number; cancelled: number; merge_job_id: string | null }>(
            'SELECT settled, failed, cancelled, merge_job_id FROM jobs.sagas WHERE job_id = $1',
            [id],
          );
          if (saga.merge_job_id) await deliver([saga.merge_job_id], merges);

          const children = await query<{ id: string; state: string }>('SELECT id, state FROM jobs.jobs WHERE parent_id = $1', [id]);
          const states = children.filter((child) => subtaskIds.includes(child.id)).map((child) => child.state);
          const mergeJobs = children.filter((child) => !subtaskIds.includes(child.id));
          const [counted] = await query<{ settled: number; failed: number; cancelled: number }>(
            'SELECT settled, failed, cancelled FROM jobs.sagas WHERE job_id = $1',
            [id],
          );
          const [{ state: parentState }] = await query<{ state: string }>('SELECT state FROM jobs.jobs WHERE id = $1', [id]);
          const finals = await query<{ state: string }>(
            `SELECT state FROM jobs.job_transitions WHERE job_id = $1 AND state IN ('succeeded', 'failed', 'cancelled')`,
            [id],
          );
          const followups = await query<{ outcome: string }>(
            `SELECT envelope->'payload'->>'outcome' AS outcome FROM jobs.outbox WHERE envelope->>'type' = 'followup.run' AND envelope->'payload'->>'jobId' = $1`,
            [id],
          );

          // every subtask ended, and was counted exactly once, as it ended
          expect(states.every((state) => ['succeeded', 'failed', 'cancelled'].includes(state))).toBe(true);
          expect(counted).toEqual({
            settled: total,
            failed: states.filter((state) => state === 'failed').length,
            cancelled: states.filter((state) => state === 'cancelled').length,
          });
          // at most one merge, and one exactly when the rules call for it
          const clean = states.every((state) => state === 'succeeded');
          expect(mergeJobs.length).toBe(merge === 'always' || (merge === 'on-success' && clean) ? 1 : 0);
          expect(mergeJobs.every((job) => job.id === saga.merge_job_id)).toBe(true);
          // one outcome, reached once, followed up once
          expect(['succeeded', 'failed']).toContain(parentState);
          expect(finals).toEqual([{ state: parentState }]);
          expect(followups).toEqual([{ outcome: parentState }]);
          const mergeSucceeded = mergeJobs.length === 0 || mergeJobs[0].state === 'succeeded';
          expect(parentState).toBe(clean && mergeSucceeded ? 'succeeded' : 'failed');
        },
      ),
      { numRuns: 25 },
    );
  });
});
