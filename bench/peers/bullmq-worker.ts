/**
 * The BullMQ side of bench:peers, as a process of its own (as geojobs' geo-service and Celery's worker are): a worker
 * on `peers-noop` (no-op jobs: the flow's children and the independent jobs) and one on `peers-parent` (the flow's
 * parent, run once its children are done, which calls the bench's webhook receiver as geojobs' followup does).
 * Concurrency BULLMQ_CONCURRENCY (100 by default: a no-op holds nothing). Prints `ready` once both workers run.
 *
 * Environment: BULLMQ_REDIS_PORT, BULLMQ_CONCURRENCY.
 */
import { Worker } from 'bullmq';
import { redisConnection } from './redis-client.js';

const port = Number(process.env.BULLMQ_REDIS_PORT);
if (!port) throw new Error('BULLMQ_REDIS_PORT is needed');
const concurrency = Number(process.env.BULLMQ_CONCURRENCY ?? 100);
const connections = [redisConnection(port), redisConnection(port)];

const workers = [
  new Worker('peers-noop', async () => null, { connection: connections[0].connection, concurrency }),
  new Worker(
    'peers-parent',
    async (job) => {
      const { url, id } = job.data as { url: string; id: string };
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id }) });
      if (!response.ok) throw new Error(`webhook: HTTP ${response.status}`);
      return null;
    },
    { connection: connections[1].connection, concurrency: 1 },
  ),
];
await Promise.all(workers.map((worker) => worker.waitUntilReady()));
process.stdout.write('ready\n');
process.on('SIGTERM', () => void Promise.all(workers.map((worker) => worker.close())).then(() => process.exit(0)));
