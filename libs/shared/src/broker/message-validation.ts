import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import type { Envelope } from '../contracts/envelope.js';
import type { MessageContract } from '../contracts/contract.js';
import { EVENT_CONTRACTS } from '../contracts/events.js';
import { BATCHED_EVENT_TYPES, type BatchedEvent, type BatchedEventKey, type JobBatchV1 } from '../contracts/job.events.js';

/** A message that can never be handled as it is: it goes to the dead-letter queue at once, never retried. */
export class MalformedMessageError extends Error {
  override readonly name = 'MalformedMessageError';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/**
 * What is wrong with an envelope, if anything. Checked by hand rather than through class-validator: it runs
 * for every message, and these seven fields are all it takes.
 */
function envelopeProblems(plain: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (typeof plain.id !== 'string' || !UUID.test(plain.id)) problems.push('id must be a UUID');
  if (!isText(plain.type)) problems.push('type must be a non-empty string');
  if (!Number.isInteger(plain.version) || (plain.version as number) < 1) problems.push('version must be a positive integer');
  if (typeof plain.occurredAt !== 'string' || !ISO_TIMESTAMP.test(plain.occurredAt) || Number.isNaN(Date.parse(plain.occurredAt))) {
    problems.push('occurredAt must be an ISO 8601 timestamp');
  }
  if (!isText(plain.correlationId)) problems.push('correlationId must be a non-empty string');
  if (plain.causationId !== undefined && plain.causationId !== null && !isText(plain.causationId)) {
    problems.push('causationId must be a string or null');
  }
  if (typeof plain.payload !== 'object' || plain.payload === null || Array.isArray(plain.payload)) {
    problems.push('payload must be an object');
  }
  return problems;
}

export function describeValidationErrors(errors: ValidationError[], prefix = ''): string {
  return errors
    .flatMap((error) => {
      const path = `${prefix}${error.property}`;
      const own = Object.values(error.constraints ?? {}).map((text) => `${path}: ${text}`);
      return [...own, describeValidationErrors(error.children ?? [], `${path}.`)].filter(Boolean);
    })
    .join('; ');
}

export function parseEnvelope(content: Buffer): Envelope<Record<string, unknown>> {
  let plain: unknown;
  try {
    plain = JSON.parse(content.toString('utf8'));
  } catch (error) {
    throw new MalformedMessageError(`body is not JSON: ${(error as Error).message}`);
  }
  return checkedEnvelope(plain, 'body');
}

/** `plain` as an envelope, once its seven fields are checked. */
function checkedEnvelope(plain: unknown, what: string): Envelope<Record<string, unknown>> {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    throw new MalformedMessageError(`${what} is not a JSON object`);
  }
  const envelope = plain as Envelope<Record<string, unknown>>;
  const problems = envelopeProblems(envelope as unknown as Record<string, unknown>);
  if (problems.length > 0) throw new MalformedMessageError(`invalid envelope: ${problems.join('; ')}`);
  envelope.causationId ??= null;
  return envelope;
}

/** The payload as an instance of its contract's class, validated by the class's decorators; unknown fields dropped. */
export function validatePayload<T extends object>(contract: MessageContract<T>, envelope: Envelope<Record<string, unknown>>): T {
  if (envelope.version > contract.version) {
    throw new MalformedMessageError(`${envelope.type} version ${envelope.version} is newer than the supported ${contract.version}`);
  }
  const payload = plainToInstance(contract.payload, envelope.payload);
  const errors = validateSync(payload, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) throw new MalformedMessageError(`invalid ${envelope.type} payload: ${describeValidationErrors(errors)}`);
  return payload;
}

/** An item of a `job.batch` that is not a lifecycle event as its contract says, and why. */
export interface MalformedBatchItem {
  item: unknown;
  error: MalformedMessageError;
}

/**
 * The events a `job.batch` carries, each checked as a message of its own would be (envelope, type, payload), and
 * the items that failed the check: the reader applies the first and dead-letters the others, one by one.
 */
export function unbatchJobEvents(batch: JobBatchV1): { events: BatchedEvent[]; malformed: MalformedBatchItem[] } {
  const events: BatchedEvent[] = [];
  const malformed: MalformedBatchItem[] = [];
  batch.events.forEach((item: unknown, index) => {
    try {
      const envelope = checkedEnvelope(item, `events[${index}]`);
      if (!(BATCHED_EVENT_TYPES as readonly string[]).includes(envelope.type)) {
        throw new MalformedMessageError(`events[${index}]: a job.batch carries ${BATCHED_EVENT_TYPES.join(', ')}, not ${envelope.type}`);
      }
      const contract = EVENT_CONTRACTS[envelope.type as BatchedEventKey] as MessageContract<object>;
      envelope.payload = validatePayload(contract, envelope) as Record<string, unknown>;
      events.push(envelope as unknown as BatchedEvent);
    } catch (error) {
      const cause = error as Error;
      const message = cause.message.startsWith('events[') ? cause.message : `events[${index}]: ${cause.message}`;
      malformed.push({ item, error: new MalformedMessageError(message) });
    }
  });
  return { events, malformed };
}
