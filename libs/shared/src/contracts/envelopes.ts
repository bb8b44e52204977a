import { randomUUID } from 'node:crypto';
import { COMMAND_CONTRACTS, type CommandKey, type Commands } from './commands.js';
import type { Envelope, MessageOrigin } from './envelope.js';
import { EVENT_CONTRACTS, type EventKey, type Events } from './events.js';

export type CommandEnvelope<K extends CommandKey = CommandKey> = Envelope<Commands[K], K>;
export type EventEnvelope<K extends EventKey = EventKey> = Envelope<Events[K], K>;

function envelope<T, K extends string>(type: K, version: number, payload: T, origin: MessageOrigin): Envelope<T, K> {
  return {
    id: randomUUID(),
    type,
    version,
    occurredAt: new Date().toISOString(),
    correlationId: origin.correlationId,
    causationId: origin.causationId ?? null,
    payload,
  };
}

/** A command in its envelope, at the version its contract declares: callers name the key, never the version. */
export function commandEnvelope<K extends CommandKey>(type: K, payload: Commands[K], origin: MessageOrigin): CommandEnvelope<K> {
  return envelope(type, COMMAND_CONTRACTS[type].version, payload, origin);
}

/** An event in its envelope, at the version its contract declares. */
export function eventEnvelope<K extends EventKey>(type: K, payload: Events[K], origin: MessageOrigin): EventEnvelope<K> {
  return envelope(type, EVENT_CONTRACTS[type].version, payload, origin);
}

/** The origin of a message caused by `cause`: the same job, and the cause's id as causation. */
export const causedBy = (cause: Pick<Envelope<unknown>, 'id' | 'correlationId'>): MessageOrigin => ({
  correlationId: cause.correlationId,
  causationId: cause.id,
});
