import { randomUUID } from 'node:crypto';
import amqp, { type GetMessage } from 'amqplib';
import {
  Broker,
  EXCHANGES,
  HEADERS,
  PermanentError,
  QUEUES,
  UnroutableMessageError,
  deadLetterQueueOf,
  type Envelope,
  NoopCommandV1,
  commandEnvelope,
} from '#shared';
import { waitFor } from '../../libs/testing/src/index.js';
import { createTestContext, management, type TestContext } from '../harness/context.js';
import { drainQueue, startTestBroker } from '../harness/broker.js';

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An envelope under a routing key no contract declares, as a stray or foreign publisher would send. */
const foreignEnvelope = (type: string, payload: unknown, correlationId: string): Envelope<unknown> => ({
  id: randomUUID(),
  type,
  version: 1,
  occurredAt: new Date().toISOString(),
  correlationId,
  causationId: null,
  payload,
});

describe('broker delivery (real RabbitMQ)', () => {
  let context: TestContext;
  let broker: Broker;

  beforeAll(async () => {
    context = await createTestContext();
    broker = await startTestBroker(context, { maxAttempts: 4 });
  });

  afterAll(async () => {
    await broker?.close();
    await context?.dispose();
  });

  /** Each test consumes its own queue's commands; queues and their consumers live as long as the vhost. */
  const jobId = () => randomUUID();
  const origin = (id: string) => ({ correlationId: id });

  it('declares the five work queues as quorum queues with delivery limits and dead-letter queues', async () => {
    const response = await management(context.managementUrl, 'GET', `/api/queues/${context.vhost}`);
    const queues = (await response.json()) as { name: string; type: string; arguments: Record<string, unknown> }[];
    const byName = new Map(queues.map((queue) => [queue.name, queue]));
    for (const name of Object.values(QUEUES)) {
      const queue = byName.get(name);
      expect(queue).toMatchObject({
        type: 'quorum',
        arguments: expect.objectContaining({
          'x-delivery-limit': 10,
          'x-dead-letter-exchange': EXCHANGES.deadLetter,
          'x-dead-letter-routing-key': deadLetterQueueOf(name),
        }),
      });
      expect(byName.get(deadLetterQueueOf(name))?.type).toBe('quorum');
    }
  });

  it('retries a handler that throws three times, and does the work once', async () => {
    const attempts: number[] = [];
    let done = 0;
    await broker.consumeCommands(QUEUES.geo, 10, {
      'geo.noop': async (_message, { attempt }) => {
        attempts.push(attempt);
        if (attempt <= 3) throw new Error(`transient failure ${attempt}`);
        done += 1;
      },
    });
    const id = jobId();
    await broker.publishCommand('geo.noop', { jobId: id }, origin(id));

    await waitFor(() => done === 1, 'the fourth attempt');
    await settle(500);
    expect(attempts).toEqual([1, 2, 3, 4]);
    expect(done).toBe(1);
    expect(await drainQueue(context.amqpUrl, deadLetterQueueOf(QUEUES.geo))).toHaveLength(0);
  });

  it('dead-letters a message whose handler always throws, with the error, after the last attempt', async () => {
    let calls = 0;
    await broker.consumeCommands(QUEUES.export, 10, {
      'export.noop': async () => {
        calls += 1;
        throw new Error('the disk is on fire');
      },
    });
    const id = jobId();
    await broker.publishCommand('export.noop', { jobId: id, sleepMs: 1 }, origin(id));

    const dlq = deadLetterQueueOf(QUEUES.export);
    const [dead] = await waitForMessages(context.amqpUrl, dlq, 1);
    expect(calls).toBe(4);
    expect(dead.properties.headers).toMatchObject({
      [HEADERS.reason]: 'failed',
      [HEADERS.error]: 'Error: the disk is on fire',
      [HEADERS.attempts]: 4,
      [HEADERS.originalQueue]: QUEUES.export,
      [HEADERS.originalRoutingKey]: 'export.noop',
    });
    const envelope = JSON.parse(dead.content.toString()) as Envelope<NoopCommandV1>;
    expect(envelope.payload).toEqual({ jobId: id, sleepMs: 1 });
  });

  it('dead-letters malformed messages at once, with the reason, without calling the handler', async () => {
    let calls = 0;
    await broker.consumeCommands(QUEUES.analytics, 10, {
      'analytics.noop': async () => {
        calls += 1;
      },
    });
    const raw = await amqp.connect(context.amqpUrl);
    const channel = await raw.createConfirmChannel();
    const send = (body: string) => channel.publish(EXCHANGES.commands, 'analytics.noop', Buffer.from(body), { persistent: true });
    const valid = commandEnvelope('analytics.noop', { jobId: jobId() }, origin('c'));
    send('{not json');
    send(JSON.stringify({ ...valid, payload: { jobId: 'not-a-uuid', sleepMs: 'soon' } }));
    send(JSON.stringify({ ...valid, id: 'x', occurredAt: 'yesterday' }));
    send(JSON.stringify({ ...valid, type: 'analytics.unknown' }));
    await channel.waitForConfirms();
    await raw.close();

    const dead = await waitForMessages(context.amqpUrl, deadLetterQueueOf(QUEUES.analytics), 4);
    const reasons = dead.map((message) => String(message.properties.headers?.[HEADERS.error]));
    expect(dead.every((message) => message.properties.headers?.[HEADERS.reason] === 'malformed')).toBe(true);
    expect(dead.every((message) => message.properties.headers?.[HEADERS.attempts] === 0)).toBe(true);
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/body is not JSON/),
        expect.stringMatching(/jobId: jobId must be a UUID.*sleepMs: sleepMs must be an integer/),
        expect.stringMatching(/invalid envelope: .*id must be a UUID.*occurredAt/),
        expect.stringMatching(/no handler for analytics.unknown/),
      ]),
    );
    expect(calls).toBe(0);
  });

  it('dead-letters a permanent failure without retrying it', async () => {
    let calls = 0;
    await broker.consume({
      queue: QUEUES.followup,
      prefetch: 5,
      contracts: { 'followup.test': { version: 1, payload: NoopCommandV1 } },
      handlers: {
        'followup.test': async () => {
          calls += 1;
          throw new PermanentError('the file is not a GeoJSON file');
        },
      },
    });
    const id = jobId();
    await broker.publishEnvelope(EXCHANGES.commands, foreignEnvelope('followup.test', { jobId: id }, id));

    const [dead] = await waitForMessages(context.amqpUrl, deadLetterQueueOf(QUEUES.followup), 1);
    expect(dead.properties.headers).toMatchObject({
      [HEADERS.reason]: 'rejected',
      [HEADERS.error]: 'PermanentError: the file is not a GeoJSON file',
      [HEADERS.attempts]: 1,
    });
    expect(calls).toBe(1);
  });

  it('refuses to confirm a message no queue is bound for', async () => {
    const envelope = foreignEnvelope('nobody.listens', { jobId: jobId() }, 'c');
    await expect(broker.publishEnvelope(EXCHANGES.commands, envelope)).rejects.toBeInstanceOf(UnroutableMessageError);
  });
});

/** Collects dead letters until `count` have arrived (or fails after 20 s). */
async function waitForMessages(amqpUrl: string, queue: string, count: number): Promise<GetMessage[]> {
  const found: GetMessage[] = [];
  await waitFor(
    async () => {
      found.push(...(await drainQueue(amqpUrl, queue)));
      return found.length >= count;
    },
    () => `${count} message(s) to reach ${queue} (${found.length} did)`,
    { intervalMs: 50 },
  );
  return found;
}
