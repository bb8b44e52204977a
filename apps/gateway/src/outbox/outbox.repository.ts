import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { COMMAND_CONTRACTS, EVENT_CONTRACTS, EXCHANGES, type CommandEnvelope, type EventEnvelope } from '#shared';

/** What the gateway writes to the outbox: a command or an event, in the envelope its builder made. */
export type OutboxMessage = CommandEnvelope | EventEnvelope;

/** The channel every change of a job's row is announced on (the payload is the job id); see JobChangesListener. */
export const JOB_CHANGES_CHANNEL = 'geojobs_job_changes';

/**
 * The exchange a message goes to, decided by its type: a command key to the commands exchange, an event key to the
 * events exchange. The two key sets are disjoint (a command names a service, an event a job or a layer).
 */
export function exchangeOf(message: OutboxMessage): string {
  if (Object.hasOwn(COMMAND_CONTRACTS, message.type)) return EXCHANGES.commands;
  if (Object.hasOwn(EVENT_CONTRACTS, message.type)) return EXCHANGES.events;
  throw new Error(`${message.type} is neither a command nor an event of the contracts`);
}

/**
 * The one statement that writes the outbox, given the SELECT of its rows (`exchange`, `envelope`, in the order to
 * publish): run on its own by `enqueue`, or as a step of the statement that writes what the messages start (a job
 * inserted with its command in one round trip, which the busiest path of the API, one job per request, relies on).
 */
export const enqueueFrom = (rows: string): string => `INSERT INTO jobs.outbox (exchange, envelope) ${rows}`;

/**
 * The gateway's write path to the world outside its transaction: messages for the relay to publish, and the
 * notification that jobs changed. Both are part of the caller's transaction, so they go out when, and only if, the
 * change that caused them commits.
 */
@Injectable()
export class OutboxRepository {
  /** Writes the messages to the outbox, in order, in one statement. */
  async enqueue(manager: EntityManager, messages: readonly OutboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await manager.query(
      enqueueFrom('SELECT m.exchange, m.envelope FROM unnest($1::text[], $2::jsonb[]) WITH ORDINALITY AS m(exchange, envelope, n) ORDER BY m.n'),
      [messages.map(exchangeOf), messages.map((message) => JSON.stringify(message))],
    );
  }

  /** Tells every gateway's JobChangesListener that these jobs changed, once the transaction commits. */
  async notifyJobChanges(manager: EntityManager, jobIds: readonly string[]): Promise<void> {
    if (jobIds.length === 0) return;
    await manager.query(`SELECT pg_notify('${JOB_CHANGES_CHANNEL}', changed.id::text) FROM unnest($1::uuid[]) AS changed(id)`, [jobIds]);
  }
}
