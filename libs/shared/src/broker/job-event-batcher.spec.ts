import { randomUUID } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Envelope } from '../contracts/envelope.js';
import { eventEnvelope } from '../contracts/envelopes.js';
import { MAX_BATCHED_EVENTS, type BatchedEvent, type JobBatchV1 } from '../contracts/job.events.js';
import { JobEventBatcher, MAX_BATCH_BYTES } from './job-event-batcher.js';

/** A message as the broker would get it: its envelope, parsed back from the body sent. */
interface Sent {
  envelope: Envelope<unknown>;
  parsed: Envelope<unknown>;
  confirm: () => void;
  fail: (error: Error) => void;
}

const succeeded = (result: Record<string, unknown> = {}): BatchedEvent => {
  const jobId = randomUUID();
  return eventEnvelope('job.succeeded', { jobId, result }, { correlationId: jobId, causationId: randomUUID() });
};

describe('JobEventBatcher', () => {
  let sent: Sent[];
  let batcher: JobEventBatcher;

  beforeEach(() => {
    sent = [];
    batcher = new JobEventBatcher(
      (envelope, body) =>
        new Promise<void>((confirm, fail) => sent.push({ envelope, parsed: JSON.parse(body.toString()) as Envelope<unknown>, confirm, fail })),
    );
  });

  const eventsOf = (message: Sent) => (message.parsed as Envelope<JobBatchV1>).payload.events;

  it('sends an event reported alone as itself', async () => {
    const event = succeeded({ rows: 3 });
    const confirmed = batcher.add(event);
    await nextTurn();
    expect(sent.map((message) => message.parsed)).toEqual([event]);
    sent[0].confirm();
    await expect(confirmed).resolves.toBeUndefined();
  });

  it('sends the events of one turn as one job.batch of the whole envelopes, each resolved by its confirm', async () => {
    const events = [succeeded(), succeeded({ a: 1 }), succeeded()];
    let resolved = 0;
    const confirmed = events.map((event) => batcher.add(event).then(() => resolved++));
    await nextTurn();
    expect(sent).toHaveLength(1);
    expect(sent[0].parsed).toEqual({ ...sent[0].envelope, payload: { events } });
    expect(sent[0].parsed).toMatchObject({ type: 'job.batch', version: 1, causationId: null });
    expect(sent[0].parsed.correlationId).not.toBe(events[0].correlationId);
    await nextTurn();
    expect(resolved).toBe(0); // not before the broker confirmed it
    sent[0].confirm();
    await Promise.all(confirmed);
    expect(resolved).toBe(3);
  });

  it('sends events of later turns in later messages', async () => {
    const first = batcher.add(succeeded());
    await nextTurn();
    const second = batcher.add(succeeded());
    await nextTurn();
    expect(sent.map((message) => message.parsed.type)).toEqual(['job.succeeded', 'job.succeeded']);
    sent.forEach((message) => message.confirm());
    await Promise.all([first, second]);
  });

  it(`puts at most ${MAX_BATCHED_EVENTS} events in a batch`, async () => {
    const events = Array.from({ length: 2 * MAX_BATCHED_EVENTS + 1 }, () => succeeded());
    const confirmed = events.map((event) => batcher.add(event));
    await nextTurn();
    expect(sent.map((message) => message.parsed.type)).toEqual(['job.batch', 'job.batch', 'job.succeeded']);
    expect([...eventsOf(sent[0]), ...eventsOf(sent[1]), sent[2].parsed]).toEqual(events);
    sent.forEach((message) => message.confirm());
    await Promise.all(confirmed);
  });

  it('starts a new batch before its events would pass MAX_BATCH_BYTES', async () => {
    const large = () => succeeded({ text: 'x'.repeat(MAX_BATCH_BYTES / 3) });
    const events = [large(), large(), large(), succeeded()];
    events.forEach((event) => void batcher.add(event));
    await nextTurn();
    expect(sent.map((message) => (message.parsed.type === 'job.batch' ? eventsOf(message).length : 1))).toEqual([2, 2]);
    expect(sent.every((message) => JSON.stringify(message.parsed).length < MAX_BATCH_BYTES + 1_000)).toBe(true);
    expect([...eventsOf(sent[0]), ...eventsOf(sent[1])]).toEqual(events);
  });

  it('fails every event of a message the broker refused, and only those', async () => {
    const inBatch = [succeeded(), succeeded()].map((event) => batcher.add(event));
    await nextTurn();
    const later = batcher.add(succeeded());
    await nextTurn();
    sent[0].fail(new Error('nacked'));
    sent[1].confirm();
    await expect(Promise.all(inBatch.map((outcome) => outcome.catch((error: Error) => error.message)))).resolves.toEqual(['nacked', 'nacked']);
    await expect(later).resolves.toBeUndefined();
  });
});
