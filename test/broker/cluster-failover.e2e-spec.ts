import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Broker, MessageNackedError, QUEUES } from '#shared';
import { waitFor } from '../../libs/testing/src/index.js';
import { infra, infraEnv, separateRabbitNode } from '../harness/global-setup.js';
import { silentLogger, testBrokerOptions } from '../harness/broker.js';

/** A three-node RabbitMQ cluster of this file's own (its folder and ports), so killing a node disturbs no other test. */
const CLUSTER_ENV: Record<string, string> = { ...separateRabbitNode('cluster'), GEOJOBS_RABBITMQ_NODES: '3' };

interface ManagementConnection {
  node: string;
  client_properties: { connection_name?: string };
}

describe('broker failover (a node of a three-node RabbitMQ cluster killed under a consumer)', () => {
  let urls: string[];
  let management: { bases: string[]; authorization: string };
  let publisher: Broker;
  let consumer: Broker;
  const received = new Map<string, number>();

  /** The management API of the first live node: every node answers for the whole cluster. */
  const api = async <T>(path: string): Promise<T> => {
    let failure: unknown;
    for (const base of management.bases) {
      try {
        const response = await fetch(`${base}/api${path}`, { headers: { authorization: management.authorization } });
        if (response.ok) return (await response.json()) as T;
        failure = new Error(`management API ${base}${path}: ${response.status}`);
      } catch (error) {
        failure = error;
      }
    }
    throw failure;
  };

  beforeAll(async () => {
    infra(['up', 'rabbitmq'], CLUSTER_ENV);
    const env = infraEnv(CLUSTER_ENV);
    urls = env.GEOJOBS_AMQP_URL.split(',');
    const mgmt = new URL(env.GEOJOBS_RABBITMQ_MGMT_URL);
    management = {
      bases: env.GEOJOBS_RABBITMQ_MGMT_URLS.split(',').map((url) => new URL(url).origin),
      authorization: `Basic ${Buffer.from(`${decodeURIComponent(mgmt.username)}:${decodeURIComponent(mgmt.password)}`).toString('base64')}`,
    };
    publisher = new Broker(testBrokerOptions(env.GEOJOBS_AMQP_URL, { connectionName: 'failover publisher' }), silentLogger);
    await publisher.start();
    await publisher.ready();
    consumer = new Broker(testBrokerOptions(env.GEOJOBS_AMQP_URL, { connectionName: 'failover consumer' }), silentLogger);
    await consumer.start();
    await consumer.ready();
    await consumer.consumeCommands(QUEUES.geo, 50, {
      'geo.noop': async ({ payload }) => {
        received.set(payload.jobId, (received.get(payload.jobId) ?? 0) + 1);
      },
    });
  }, 180_000);

  afterAll(async () => {
    await consumer?.close();
    await publisher?.close();
    infra(['down', 'rabbitmq'], CLUSTER_ENV);
  }, 120_000);

  const consumerNode = async (): Promise<string | undefined> =>
    (await api<ManagementConnection[]>('/connections')).find((connection) => connection.client_properties.connection_name === 'failover consumer')?.node;

  /**
   * Publishes as the outbox relay does: a message the broker nacks — a quorum queue electing a new leader after its
   * node died refuses what it cannot yet replicate — is sent again until confirmed. The election takes well under a
   * second, but RabbitMQ 3.10 can go on nacking on the publisher's channel after it, which the Broker replaces once it
   * has answered only nacks for STUCK_CHANNEL_MS; the 90 s bound is this test's own (the relay never gives up).
   */
  const publishConfirmed = async (jobId: string): Promise<void> => {
    const deadline = Date.now() + 90_000;
    for (;;) {
      try {
        return await publisher.publishCommand('geo.noop', { jobId }, { correlationId: jobId });
      } catch (error) {
        if (!(error instanceof MessageNackedError) || Date.now() > deadline) throw error;
        await sleep(250);
      }
    }
  };
  const publishMany = async (count: number): Promise<string[]> => {
    const ids = Array.from({ length: count }, () => randomUUID());
    await Promise.all(ids.map(publishConfirmed));
    return ids;
  };

  it('replicates the work queues on all three nodes', async () => {
    const queue = await api<{ members?: string[] }>(`/queues/%2F/${QUEUES.geo}`);
    expect(queue.members).toHaveLength(3);
  });

  it('moves the consumer to a live node when its node dies, and every confirmed message is consumed', async () => {
    const before = await publishMany(100);
    await waitFor(() => before.every((id) => received.has(id)), 'the first 100 to be consumed');

    // The management API lists a connection once its statistics come in, every few seconds.
    const node = await waitFor(() => consumerNode(), 'the management API to list the consumer connection', { timeoutMs: 30_000 });
    expect(node).toMatch(/^geojobs-\d+-[123]@localhost$/);
    const index = Number(/-(\d)@/.exec(node)![1]);
    const pidFile = join(CLUSTER_ENV.GEOJOBS_DATA_DIR, `rabbitmq-${index}`, 'rabbitmq.pid');
    process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
    await waitFor(() => !consumer.connected, 'the consumer to notice its node died');

    const during = await publishMany(100);
    await waitFor(() => during.every((id) => received.has(id)), 'the 100 published after the kill', { timeoutMs: 120_000 });
    expect(consumer.connected).toBe(true);
    const moved = await waitFor(
      async () => {
        const current = await consumerNode();
        return current !== node && current;
      },
      'the management API to list the consumer on another node',
      { timeoutMs: 30_000 },
    );
    expect(moved).toMatch(/^geojobs-\d+-[123]@localhost$/);

    infra(['up', `rabbitmq-${index}`], CLUSTER_ENV);
    const after = await publishMany(100);
    await waitFor(() => after.every((id) => received.has(id)), 'the 100 published once the node was back');
    expect(received.size).toBe(300);
    expect(urls).toHaveLength(3);
  }, 300_000);
});
