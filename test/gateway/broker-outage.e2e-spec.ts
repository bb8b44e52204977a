import { randomBytes } from 'node:crypto';
import { waitFor } from '../../libs/testing/src/index.js';
import { infra, infraEnv, separateRabbitNode } from '../harness/global-setup.js';
import { createTestContext, management, type TestContext } from '../harness/context.js';
import { Client } from '../harness/http.js';
import type { Job } from '../harness/jobs.js';
import { startService, type RunningService } from '../harness/services.js';

/** A RabbitMQ node of this file's own, since stopping the shared one would disturb the other test files. */
const NODE_ENV = separateRabbitNode('outage');

describe('gateway while RabbitMQ is down', () => {
  let context: TestContext;
  const services: RunningService[] = [];
  let admin: Client;

  beforeAll(async () => {
    infra(['up', 'rabbitmq'], NODE_ENV);
    const node = infraEnv(NODE_ENV);
    const vhost = `geojobs_test_outage_${randomBytes(4).toString('hex')}`;
    await management(node.GEOJOBS_RABBITMQ_MGMT_URL, 'PUT', `/api/vhosts/${vhost}`, {});
    await management(node.GEOJOBS_RABBITMQ_MGMT_URL, 'PUT', `/api/permissions/${vhost}/geojobs`, { configure: '.*', write: '.*', read: '.*' });
    const amqpUrl = new URL(node.GEOJOBS_AMQP_URL);
    amqpUrl.pathname = `/${vhost}`;
    context = { ...(await createTestContext()), amqpUrl: amqpUrl.toString() };
    const gateway = await startService('gateway', context);
    services.push(gateway, await startService('geo-service', context, { GEOJOBS_PREFETCH: '50' }));
    admin = await Client.admin(gateway);
  });

  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await context?.dispose();
    infra(['down', 'rabbitmq'], NODE_ENV);
  });

  it('keeps accepting jobs, which all run once the broker is back', async () => {
    infra(['down', 'rabbitmq'], NODE_ENV);
    await waitFor(async () => (await admin.get('/health')).status === 503, 'the gateway to notice the broker is gone', { intervalMs: 100 });

    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => admin.post<Job>('/jobs', { type: 'noop', input: { service: 'geo', sleepMs: i } })));
    expect(replies.map((reply) => reply.status)).toEqual(Array(100).fill(202));
    const ids = replies.map((reply) => reply.body.id);

    infra(['up', 'rabbitmq'], NODE_ENV);
    const succeeded = async () => {
      const jobs = await admin.get<Job[]>('/jobs?state=succeeded&limit=500');
      return ids.every((id) => jobs.body.some((job) => job.id === id));
    };
    await waitFor(succeeded, 'all 100 jobs to succeed', { timeoutMs: 60_000, intervalMs: 100 });
  });
});
