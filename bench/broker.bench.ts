/**
 * `npm run bench:broker`: 100,000 small persistent messages on a quorum queue, published with confirms and
 * then consumed, through the broker module and through a bare amqplib loop (confirm window 1,000,
 * prefetch 200). Prints messages/s for each and the ratio.
 */
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { pino } from 'pino';
import { Broker, EXCHANGES, QUEUES } from '#shared';

const COUNT = Number(process.env.BENCH_MESSAGES ?? 100_000);
const PREFETCH = 200;
const WINDOW = 1_000;
const amqpUrl = process.env.GEOJOBS_AMQP_URL;
const managementUrl = process.env.GEOJOBS_RABBITMQ_MGMT_URL;
if (!amqpUrl || !managementUrl) throw new Error('run through npm run bench:broker (needs GEOJOBS_AMQP_URL)');

async function freshVhost(name: string): Promise<string> {
  const base = new URL(managementUrl!);
  const auth = `Basic ${Buffer.from(`${base.username}:${decodeURIComponent(base.password)}`).toString('base64')}`;
  base.username = '';
  base.password = '';
  const call = (method: string, path: string, body?: unknown) =>
    fetch(new URL(path, base), { method, headers: { authorization: auth, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  await call('DELETE', `/api/vhosts/${name}`);
  await call('PUT', `/api/vhosts/${name}`, {});
  await call('PUT', `/api/permissions/${name}/${new URL(amqpUrl!).username}`, { configure: '.*', write: '.*', read: '.*' });
  const url = new URL(amqpUrl!);
  url.pathname = `/${name}`;
  return url.toString();
}

const rate = (count: number, ms: number) => Math.round((count / ms) * 1000);
const time = async (fn: () => Promise<void>) => {
  const start = performance.now();
  await fn();
  return performance.now() - start;
};

async function throughBrokerModule(url: string): Promise<{ publish: number; consume: number }> {
  const broker = new Broker(
    { url, connectionName: 'bench', deliveryLimit: 10, retryDelaysMs: [1_000], maxAttempts: 3, maxUnconfirmed: WINDOW, heartbeatSeconds: 30 },
    pino({ level: 'warn' }),
  );
  await broker.start();
  await broker.ready();
  const jobId = randomUUID();
  const publishMs = await time(async () => {
    const confirms: Promise<void>[] = new Array(COUNT);
    for (let i = 0; i < COUNT; i++) confirms[i] = broker.publishCommand('geo.noop', { jobId, sleepMs: i % 10 }, { correlationId: jobId });
    await Promise.all(confirms);
  });
  let consumed = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const consumeMs = await time(async () => {
    await broker.consumeCommands(QUEUES.geo, PREFETCH, {
      'geo.noop': async () => {
        if (++consumed === COUNT) done();
      },
    });
    await finished;
  });
  await broker.close();
  return { publish: rate(COUNT, publishMs), consume: rate(COUNT, consumeMs) };
}

async function throughBareAmqplib(url: string): Promise<{ publish: number; consume: number }> {
  const connection = await amqp.connect(url);
  const channel = await connection.createConfirmChannel();
  const queue = 'bench_bare_q';
  await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  const body = Buffer.from(
    JSON.stringify({ id: randomUUID(), type: 'geo.noop', version: 1, occurredAt: new Date().toISOString(), correlationId: randomUUID(), causationId: null, payload: { jobId: randomUUID(), sleepMs: 1 } }),
  );
  const publishMs = await time(async () => {
    let outstanding = 0;
    let wake: () => void = () => undefined;
    for (let i = 0; i < COUNT; i++) {
      while (outstanding >= WINDOW) await new Promise<void>((resolve) => (wake = resolve));
      outstanding++;
      channel.sendToQueue(queue, body, { persistent: true, messageId: String(i) }, () => {
        outstanding--;
        wake();
      });
    }
    await channel.waitForConfirms();
  });
  const consumer = await connection.createChannel();
  await consumer.prefetch(PREFETCH);
  let consumed = 0;
  const consumeMs = await time(
    () =>
      new Promise<void>((resolve) => {
        void consumer.consume(queue, (message) => {
          if (!message) return;
          consumer.ack(message);
          if (++consumed === COUNT) resolve();
        });
      }),
  );
  await connection.close();
  return { publish: rate(COUNT, publishMs), consume: rate(COUNT, consumeMs) };
}

const bare = await throughBareAmqplib(await freshVhost('geojobs_bench_bare'));
const module = await throughBrokerModule(await freshVhost('geojobs_bench_module'));
const ratio = (a: number, b: number) => (a / b).toFixed(2);
console.log(`broker benchmark: ${COUNT} persistent messages on a quorum queue (publish confirm window ${WINDOW}, prefetch ${PREFETCH})`);
console.log(`  bare amqplib    publish ${bare.publish} msg/s   consume ${bare.consume} msg/s`);
console.log(`  broker module   publish ${module.publish} msg/s   consume ${module.consume} msg/s`);
console.log(`  ratio (module / bare)   publish ${ratio(module.publish, bare.publish)}×   consume ${ratio(module.consume, bare.consume)}×   (target ≥ 0.80×)`);
