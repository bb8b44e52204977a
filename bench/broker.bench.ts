/**
 * `npm run bench:broker`: 100,000 small persistent messages on a quorum queue, published with confirms and
 * then consumed, through the broker module and through a bare amqplib loop (confirm window 1,000,
 * prefetch 200) sending the same messages the same way. Prints messages/s for each and the ratio.
 */
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { pino } from 'pino';
import { Broker, declareTopology, EXCHANGES, QUEUES } from '#shared';
import { withVhost } from './support/bench-env.js';
import { median } from './support/stats.js';

const COUNT = Number(process.env.BENCH_MESSAGES ?? 100_000);
const PREFETCH = 200;
const WINDOW = 1_000;
const amqpUrl = process.env.GEOJOBS_AMQP_URL;
const managementUrl = process.env.GEOJOBS_RABBITMQ_MGMT_URL;
if (!amqpUrl || !managementUrl) throw new Error('run through npm run bench:broker (needs GEOJOBS_AMQP_URL)');

const rate = (count: number, ms: number) => Math.round((count / ms) * 1000);
const time = async (fn: () => Promise<void>) => {
  const start = performance.now();
  await fn();
  return performance.now() - start;
};

async function throughBrokerModule(url: string): Promise<{ publish: number; consume: number }> {
  const broker = new Broker(
    { urls: [url], connectionName: 'bench', deliveryLimit: 10, retryDelaysMs: [1_000], maxAttempts: 3, maxUnconfirmed: WINDOW, heartbeatSeconds: 30 },
    pino({ level: 'warn' }),
  );
  await broker.start();
  await broker.ready();
  const jobId = randomUUID();
  const publishMs = await time(async () => {
    const confirms = new Array<Promise<void>>(COUNT);
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

/**
 * The same messages by hand: the same envelope bytes and properties, published persistent and mandatory to
 * the same exchange and routing key, into the same quorum queue; consumed and acked without looking inside.
 * `direct` sends to the queue through the default exchange with no properties instead: the cheapest route
 * there is, shown for reference.
 */
async function throughBareAmqplib(url: string, route: 'same' | 'direct'): Promise<{ publish: number; consume: number }> {
  const connection = await amqp.connect(url);
  const channel = await connection.createConfirmChannel();
  await declareTopology(channel, { deliveryLimit: 10, retryDelaysMs: [1_000] });
  const jobId = randomUUID();
  const body = Buffer.from(
    JSON.stringify({
      id: randomUUID(),
      type: 'geo.noop',
      version: 1,
      occurredAt: new Date().toISOString(),
      correlationId: jobId,
      causationId: null,
      payload: { jobId, sleepMs: 1 },
    }),
  );
  const properties = { persistent: true, mandatory: true, correlationId: jobId, type: 'geo.noop', contentType: 'application/json' };
  const publishMs = await time(async () => {
    let outstanding = 0;
    let wake: () => void = () => undefined;
    const confirmed = () => {
      outstanding--;
      wake();
    };
    for (let i = 0; i < COUNT; i++) {
      while (outstanding >= WINDOW) await new Promise<void>((resolve) => (wake = resolve));
      outstanding++;
      if (route === 'same') channel.publish(EXCHANGES.commands, 'geo.noop', body, { ...properties, messageId: randomUUID() }, confirmed);
      else channel.sendToQueue(QUEUES.geo, body, { persistent: true }, confirmed);
    }
    await channel.waitForConfirms();
  });
  const consumer = await connection.createChannel();
  await consumer.prefetch(PREFETCH);
  let consumed = 0;
  const consumeMs = await time(
    () =>
      new Promise<void>((resolve) => {
        void consumer.consume(QUEUES.geo, (message) => {
          if (!message) return;
          consumer.ack(message);
          if (++consumed === COUNT) resolve();
        });
      }),
  );
  await connection.close();
  return { publish: rate(COUNT, publishMs), consume: rate(COUNT, consumeMs) };
}

/** Rounds alternate the three ways, and each figure is the median of its rounds: the broker's own noise is large. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
type Rates = { publish: number; consume: number };
const runs: Record<'direct' | 'bare' | 'module', Rates[]> = { direct: [], bare: [], module: [] };
for (let round = 0; round < ROUNDS; round++) {
  runs.direct.push(await withVhost('geojobs_bench_direct', (url) => throughBareAmqplib(url, 'direct')));
  runs.bare.push(await withVhost('geojobs_bench_bare', (url) => throughBareAmqplib(url, 'same')));
  runs.module.push(await withVhost('geojobs_bench_module', throughBrokerModule));
}
const summary = (rates: Rates[]): Rates => ({ publish: median(rates.map((r) => r.publish)), consume: median(rates.map((r) => r.consume)) });
const [direct, bare, module] = [summary(runs.direct), summary(runs.bare), summary(runs.module)];
const ratio = (a: number, b: number) => (a / b).toFixed(2);
const line = (name: string, r: { publish: number; consume: number }) =>
  console.log(`  ${name.padEnd(44)} publish ${String(r.publish).padStart(6)} msg/s   consume ${String(r.consume).padStart(6)} msg/s`);
console.log(
  `broker benchmark: ${COUNT} small persistent messages on a quorum queue, confirm window ${WINDOW}, prefetch ${PREFETCH}, median of ${ROUNDS} rounds`,
);
line('bare amqplib, default exchange (reference)', direct);
line('bare amqplib, same exchange/key/properties', bare);
line('broker module (envelope, validation, acks)', module);
console.log(
  `  ratio module / bare (same route)   publish ${ratio(module.publish, bare.publish)}×   consume ${ratio(module.consume, bare.consume)}×   (target ≥ 0.80×)`,
);
