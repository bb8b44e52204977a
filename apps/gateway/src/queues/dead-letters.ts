import { HEADERS, QUEUES, deadLetterQueueOf, type QueueName } from '#shared';

export const WORK_QUEUES = Object.values(QUEUES);

/** A dead-lettered message as the dashboard lists it. */
export interface DeadLetterView {
  messageId: string | null;
  type: string | null;
  /** Why it was dead-lettered: `malformed`, `rejected`, `failed`, or the broker's own (`delivery_limit`, …). */
  reason: string | null;
  error: string | null;
  attempts: number | null;
  deadLetteredAt: string | null;
  originalQueue: string;
  originalRoutingKey: string | null;
  /** The body, cut to a few kB (it may not be JSON at all: a malformed message is why it is here). */
  payload: string;
}

export type Headers = Record<string, unknown>;

/** Headers that describe the dead-lettering; a replayed message starts afresh without them. */
const DEAD_LETTER_HEADERS: readonly string[] = [HEADERS.reason, HEADERS.error, HEADERS.attempts, HEADERS.originalQueue, HEADERS.deadLetteredAt, 'x-death'];

/** A header's value as text: AMQP headers arrive as strings, numbers or (for a byte string) Buffers. */
const text = (value: unknown): string | null => {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return null;
};

/** The broker's own dead-lettering (a delivery limit reached) records the queue in `x-death` instead of our header. */
function deathQueue(headers: Headers): string | undefined {
  const deaths = headers['x-death'];
  if (!Array.isArray(deaths) || deaths.length === 0) return undefined;
  const first = deaths[0] as Record<string, unknown>;
  return typeof first.queue === 'string' ? first.queue : undefined;
}

/**
 * The work queue a dead letter of `dlq` goes back to: the one its headers name, else the one the broker recorded, else
 * the queue whose dead-letter queue it is. Only a queue of the contract: a header cannot send it elsewhere.
 */
export function replayQueue(headers: Headers, dlq: string): QueueName {
  const owner = WORK_QUEUES.find((queue) => deadLetterQueueOf(queue) === dlq);
  const named = text(headers[HEADERS.originalQueue]) ?? deathQueue(headers) ?? owner;
  const queue = WORK_QUEUES.find((candidate) => candidate === named) ?? owner;
  if (!queue) throw new Error(`${dlq} is not the dead-letter queue of a geojobs queue`);
  return queue;
}

/** The headers of a replayed message: the dead-letter ones dropped, the original routing key kept (consumers read it). */
export function replayHeaders(headers: Headers): Headers {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !DEAD_LETTER_HEADERS.includes(name)));
}

/** A message of the management API's `POST /api/queues/…/get`, as the dashboard shows it. */
export function deadLetterView(
  message: { payload: string; routing_key: string; properties: { headers?: Headers; message_id?: string; type?: string } },
  dlq: string,
): DeadLetterView {
  const headers = message.properties.headers ?? {};
  const attempts = headers[HEADERS.attempts];
  return {
    messageId: message.properties.message_id ?? null,
    type: message.properties.type ?? null,
    reason: text(headers[HEADERS.reason]) ?? text((headers['x-death'] as Record<string, unknown>[] | undefined)?.[0]?.reason),
    error: text(headers[HEADERS.error]),
    attempts: typeof attempts === 'number' ? attempts : attempts === undefined ? null : Number(attempts),
    deadLetteredAt: text(headers[HEADERS.deadLetteredAt]),
    originalQueue: replayQueue(headers, dlq),
    originalRoutingKey: text(headers[HEADERS.originalRoutingKey]),
    payload: message.payload.slice(0, 4_000),
  };
}
