import { randomUUID } from 'node:crypto';
import { Broker, QUEUES } from '#shared';
import { waitFor } from '../../libs/testing/src/index.js';
import { infra, infraEnv, separateRabbitNode } from '../harness/global-setup.js';
import { drainQueue, silentLogger, testBrokerOptions } from '../harness/broker.js';

/** A RabbitMQ node of this file's own, since restarting the shared one would disturb the other test files. */
const NODE_ENV = separateRabbitNode('restart');

describe('broker restart (a RabbitMQ node stopped and started again)', () => {
  let amqpUrl: string;
  let publisher: Broker;
  let consumer: Broker;
  const received = new Set<string>();

  beforeAll(async () => {
    infra(['up', 'rabbitmq'], NODE_ENV);
    amqpUrl = infraEnv(NODE_ENV).GEOJOBS_AMQP_URL;
    // Start from empty queues, whatever an earlier run left behind.
    publisher = new Broker(testBrokerOptions(amqpUrl, { connectionName: 'publisher' }), silentLogger);
    await publisher.start();
    await publisher.ready();
    await drainQueue(amqpUrl, QUEUES.geo);
    await drainQueue(amqpUrl, QUEUES.export);
    consumer = new Broker(testBrokerOptions(amqpUrl, { connectionName: 'consumer' }), silentLogger);
    await consumer.start();
    await consumer.ready();
    await consumer.consumeCommands(QUEUES.geo, 50, {
      'geo.noop': async ({ payload }) => {
        received.add(payload.jobId);
      },
    });
  });

  afterAll(async () => {
    await consumer?.close();
    await publisher?.close();
    infra(['down', 'rabbitmq'], NODE_ENV);
  });

  const publishMany = (type: 'geo.noop' | 'export.noop', count: number) => {
    const ids = Array.from({ length: count }, () => randomUUID());
    return { ids, confirmed: Promise.all(ids.map((jobId) => publisher.publishCommand(type, { jobId }, { correlationId: jobId }))) };
  };

  it('keeps confirmed messages, and delivers those published while it was down once it returns', async () => {
    const before = publishMany('geo.noop', 50);
    const waiting = publishMany('export.noop', 50); // no consumer: they sit in export_q through the restart
    await Promise.all([before.confirmed, waiting.confirmed]);
    await waitFor(() => before.ids.every((id) => received.has(id)), 'the first 50 to be consumed');

    infra(['down', 'rabbitmq'], NODE_ENV);
    await waitFor(() => !publisher.connected && !consumer.connected, 'both connections to notice');
    const during = publishMany('geo.noop', 50);
    let confirmedWhileDown = false;
    void during.confirmed.then(() => (confirmedWhileDown = true));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(confirmedWhileDown).toBe(false);

    infra(['up', 'rabbitmq'], NODE_ENV);
    await during.confirmed;
    await waitFor(() => during.ids.every((id) => received.has(id)), 'the 50 published during the outage', { timeoutMs: 30_000 });
    expect(publisher.connected && consumer.connected).toBe(true);

    const survivors = (await drainQueue(amqpUrl, QUEUES.export)).map((message) => JSON.parse(message.content.toString()).payload.jobId);
    expect(new Set(survivors)).toEqual(new Set(waiting.ids));
  });
});
