import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { Envelope, Events } from '#shared';
import { transactionRetryingDeadlocks } from '../database/transaction.js';
import { OutboxRelay } from '../outbox/outbox.relay.js';
import { OutboxRepository } from '../outbox/outbox.repository.js';
import { SagaCoordinator } from '../sagas/saga.coordinator.js';
import { SETTLED_JOB_COLUMNS, type SettledJob } from '../sagas/sagas.repository.js';

type AppliedKey = 'job.started' | 'job.progress' | 'job.fanout' | 'job.succeeded' | 'job.failed';
type LifecycleEvent = { [K in AppliedKey]: Envelope<Events[K], K> }[AppliedKey];

interface Pending {
  event: LifecycleEvent;
  done: () => void;
  failed: (error: Error) => void;
}

const MAX_BATCH = 500;
const LINGER_MS = 5;

/**
 * Applies the services' lifecycle events to the jobs table, many at a time: events that arrive together are
 * written in one transaction. Each message id goes into the inbox first, so a redelivered event is applied
 * once; and every update is guarded by the job's state, so events count only in lifecycle order — a late
 * `progress` or `started` never undoes `succeeded`, and nothing moves a job out of a final state.
 *
 * One batch is written at a time (group commit): the events that arrive while a transaction runs wait for it and go
 * into the next one together, so under load the batches grow instead of the transactions multiplying — fewer commits,
 * and no batch waiting on the row locks of the one before it (a job's `started` and `succeeded` often arrive a batch
 * apart).
 */
@Injectable()
export class JobEventsApplier {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** A batch's transaction is running: the next batch waits for it. */
  private writing = false;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(OutboxRelay) private readonly relay: OutboxRelay,
    @Inject(OutboxRepository) private readonly outbox: OutboxRepository,
    @Inject(SagaCoordinator) private readonly sagas: SagaCoordinator,
  ) {}

  /** Resolves once the event is committed (the consumer then acks it). */
  apply(event: LifecycleEvent): Promise<void> {
    return new Promise((done, failed) => {
      this.pending.push({ event, done, failed });
      if (this.writing) return; // the running batch's end writes this one
      if (this.pending.length >= MAX_BATCH) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), LINGER_MS);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.writing || this.pending.length === 0) return;
    const batch = this.pending.splice(0, MAX_BATCH);
    const events = batch.map((item) => item.event);
    this.writing = true;
    // a batch settling subtasks of the same sagas as another gateway's batch, a cancel or the deadline sweeper may
    // deadlock with it; PostgreSQL aborts one, which runs again
    transactionRetryingDeadlocks(this.db, (manager) => this.write(manager, events))
      .then(
        (finished) => {
          for (const item of batch) item.done();
          if (finished > 0) this.relay.kick();
        },
        (error: Error) => {
          for (const item of batch) item.failed(error);
        },
      )
      .finally(() => {
        this.writing = false;
        this.flush(); // what arrived meanwhile has waited already: no linger
      });
  }

  /** Returns how many jobs reached a final state (their followups went to the outbox). */
  private async write(manager: EntityManager, events: LifecycleEvent[]): Promise<number> {
    const fresh: { message_id: string }[] = await manager.query(
      'INSERT INTO jobs.inbox (message_id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING RETURNING message_id',
      [events.map((event) => event.id)],
    );
    const isFresh = new Set(fresh.map((row) => row.message_id));
    const of = <K extends LifecycleEvent['type']>(type: K) =>
      events.filter((event): event is Extract<LifecycleEvent, { type: K }> => event.type === type && isFresh.has(event.id));

    const started = of('job.started');
    const progress = latestPerJob(of('job.progress'));
    const fanouts = of('job.fanout');
    const succeeded = of('job.succeeded');
    const failed = of('job.failed');
    const changed = new Set<string>();
    const collect = (rows: { id: string }[]) => rows.forEach((row) => changed.add(row.id));

    if (started.length > 0) {
      collect(
        await manager.query(
          `WITH updated AS (
             UPDATE jobs.jobs j SET state = 'running', started_at = coalesce(j.started_at, e.at), updated_at = now()
             FROM (SELECT unnest($1::uuid[]) AS id, unnest($2::timestamptz[]) AS at) e
             WHERE j.id = e.id AND j.state = 'queued' RETURNING j.id
           ) SELECT id FROM updated`,
          [started.map((e) => e.payload.jobId), started.map((e) => e.occurredAt)],
        ),
      );
    }
    if (progress.length > 0) {
      collect(
        await manager.query(
          `WITH updated AS (
             UPDATE jobs.jobs j SET state = 'running', started_at = coalesce(j.started_at, now()), progress_current = e.current,
               progress_total = e.total, progress_message = e.message, updated_at = now()
             FROM (SELECT unnest($1::uuid[]) AS id, unnest($2::int[]) AS current, unnest($3::int[]) AS total, unnest($4::text[]) AS message) e
             WHERE j.id = e.id AND j.state IN ('queued', 'running')
               -- a saga's progress is its subtasks': a progress of the run that fanned out, applied late, does not replace it
               AND NOT EXISTS (SELECT 1 FROM jobs.sagas s WHERE s.job_id = j.id)
             RETURNING j.id
           ) SELECT id FROM updated`,
          [
            progress.map((e) => e.payload.jobId),
            progress.map((e) => e.payload.current),
            progress.map((e) => e.payload.total),
            progress.map((e) => e.payload.message),
          ],
        ),
      );
    }
    // after started/progress; a fan-out counts from a job that has not ended (SagaCoordinator.fanOut, opensSaga)
    for (const id of await this.sagas.fanOut(manager, fanouts)) changed.add(id);
    const finals = [
      ...succeeded.map((e) => ({
        id: e.payload.jobId,
        state: 'succeeded',
        result: e.payload.result,
        error: null,
        started: e.payload.startedAt,
        at: e.occurredAt,
        event: e.id,
      })),
      ...failed.map((e) => ({
        id: e.payload.jobId,
        state: 'failed',
        result: null,
        error: e.payload.error,
        started: e.payload.startedAt,
        at: e.occurredAt,
        event: e.id,
      })),
    ];
    let finished = 0;
    if (finals.length > 0) {
      // a quick job's final event is its only one: it carries when the job started (its `running` transition is
      // recorded from it, jobs.record_changed_states)
      const rows: SettledJob[] = await manager.query(
        `WITH updated AS (
           UPDATE jobs.jobs j SET state = e.state, result = e.result, error = e.error, finished_at = e.at,
             started_at = coalesce(j.started_at, e.started, e.at), progress_current = greatest(j.progress_current, j.progress_total), updated_at = now()
           FROM jsonb_to_recordset($1::jsonb) AS e(id uuid, state text, result jsonb, error jsonb, started timestamptz, at timestamptz)
           WHERE j.id = e.id AND j.state IN ('queued', 'running') RETURNING ${SETTLED_JOB_COLUMNS}
         ) SELECT * FROM updated`,
        [JSON.stringify(finals)],
      );
      collect(rows);
      finished = rows.length;
      // a job leaves queued/running once: counted for its saga, and its followups written, exactly once — all caused
      // by the event that settled it
      const causes = new Map(finals.map((final) => [final.id, final.event]));
      await this.sagas.settled(
        manager,
        rows.map((row) => ({ ...row, causationId: causes.get(row.id) ?? null })),
      );
    }
    await this.outbox.notifyJobChanges(manager, [...changed]);
    return finished;
  }
}

/** Of several progress reports for a job in one batch, only the newest matters. */
function latestPerJob<E extends { occurredAt: string; payload: { jobId: string } }>(events: E[]): E[] {
  const latest = new Map<string, E>();
  for (const event of events) {
    const seen = latest.get(event.payload.jobId);
    if (!seen || seen.occurredAt <= event.occurredAt) latest.set(event.payload.jobId, event);
  }
  return [...latest.values()];
}
