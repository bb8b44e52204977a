import { randomUUID } from 'node:crypto';
import { COMMAND_CONTRACTS } from '../contracts/commands.js';
import { JobSucceededV1 } from '../contracts/job.events.js';
import { MalformedMessageError, parseEnvelope, unbatchJobEvents, validatePayload } from './message-validation.js';

const envelope = (overrides: Record<string, unknown> = {}) => ({
  id: randomUUID(),
  type: 'geo.noop',
  version: 1,
  occurredAt: new Date().toISOString(),
  correlationId: 'job-1',
  causationId: null,
  payload: { jobId: randomUUID(), sleepMs: 5 },
  ...overrides,
});
const bytes = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

describe('message validation', () => {
  it('accepts a well-formed envelope and payload, dropping unknown payload fields', async () => {
    const parsed = parseEnvelope(bytes(envelope({ payload: { jobId: randomUUID(), extra: 'x' } })));
    const payload = validatePayload(COMMAND_CONTRACTS['geo.noop'], parsed);
    expect(payload).not.toHaveProperty('extra');
  });

  it.each([
    ['not JSON', '{', /body is not JSON/],
    ['a JSON array', '[1]', /not a JSON object/],
    ['an envelope without id', envelope({ id: undefined }), /id must be a UUID/],
    ['an envelope without payload', envelope({ payload: undefined }), /payload must be an object/],
  ])('rejects %s', async (_what, body, reason) => {
    expect(() => parseEnvelope(bytes(body))).toThrow(reason);
    expect(() => parseEnvelope(bytes(body))).toThrow(MalformedMessageError);
  });

  it('names each bad payload field', async () => {
    const parsed = parseEnvelope(bytes(envelope({ payload: { jobId: 'nope', sleepMs: -1 } })));
    expect(() => validatePayload(COMMAND_CONTRACTS['geo.noop'], parsed)).toThrow(/jobId: jobId must be a UUID; sleepMs: sleepMs must not be less than 0/);
  });

  it('refuses a payload version newer than the contract', async () => {
    const parsed = parseEnvelope(bytes(envelope({ version: 2 })));
    expect(() => validatePayload(COMMAND_CONTRACTS['geo.noop'], parsed)).toThrow(/version 2 is newer than the supported 1/);
  });
});

describe('the events of a job.batch', () => {
  const succeeded = (overrides: Record<string, unknown> = {}) =>
    envelope({ type: 'job.succeeded', payload: { jobId: randomUUID(), result: { rows: 1 }, extra: 'x' }, ...overrides });

  it('reads each item as a message of its own: checked, and its payload an instance of its contract', () => {
    const items = [succeeded(), envelope({ type: 'job.started', payload: { jobId: randomUUID(), service: 'geo' } })];
    const { events, malformed } = unbatchJobEvents({ events: structuredClone(items) as never });
    expect(malformed).toEqual([]);
    expect(events.map((event) => [event.id, event.type, event.correlationId])).toEqual(items.map((item) => [item.id, item.type, item.correlationId]));
    expect(events[0].payload).toBeInstanceOf(JobSucceededV1);
    expect(events[0].payload).not.toHaveProperty('extra');
  });

  it('names each malformed item by its place and keeps the others', () => {
    const good = succeeded();
    const items = [
      succeeded({ id: 'not-a-uuid' }),
      good,
      envelope({ type: 'job.cancelled', payload: { jobId: randomUUID() } }),
      succeeded({ payload: { jobId: 'job-1', result: {} } }),
      'a string',
      envelope({ type: 'job.batch', payload: { events: [] } }),
    ];
    const { events, malformed } = unbatchJobEvents({ events: items as never });
    expect(events.map((event) => event.id)).toEqual([good.id]);
    expect(malformed.map(({ item }) => item)).toEqual([items[0], items[2], items[3], items[4], items[5]]);
    expect(malformed.every(({ error }) => error instanceof MalformedMessageError)).toBe(true);
    expect(malformed.map(({ error }) => error.message)).toEqual([
      'events[0]: invalid envelope: id must be a UUID',
      'events[2]: a job.batch carries job.started, job.progress, job.fanout, job.succeeded, job.failed, not job.cancelled',
      'events[3]: invalid job.succeeded payload: jobId: jobId must be a UUID',
      'events[4] is not a JSON object',
      'events[5]: a job.batch carries job.started, job.progress, job.fanout, job.succeeded, job.failed, not job.batch',
    ]);
  });
});
