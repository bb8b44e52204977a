/**
 * `npm run bench:analytics`: 200,000 analytics events through analytics-service to a local Mixpanel-compatible
 * server, beside the same events sent with the mixpanel package one `track()` per event.
 *
 * The events enter as `analytics.track` commands of 100 events each, published through the broker module —
 * what the gateway's `POST /analytics/events` will publish; the gateway endpoint is not in this measurement.
 * analytics-service runs as its own process from dist, as in production (default prefetch, batches of
 * 2,000). The clock runs from the first publish until the server has received the last event.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Mixpanel from 'mixpanel';
import { pino } from 'pino';
import { Broker, type AnalyticsEventV1 } from '#shared';
import { MixpanelServer } from './support/analytics-destinations.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const PER_MESSAGE = Number(process.env.BENCH_EVENTS_PER_MESSAGE ?? 100);
/**
 * In-flight track() calls of the one-per-event path: 1 is how HDX's job processor sent them (one worker, one
 * event after another); 64 is a generous parallel sender (the package has no limit of its own).
 */
const TRACK_CONCURRENCIES = (process.env.BENCH_TRACK_CONCURRENCY ?? '1,64').split(',').map(Number);
const TOKEN = 'bench-token';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const amqpUrl = process.env.GEOJOBS_AMQP_URL;
const managementUrl = process.env.GEOJOBS_RABBITMQ_MGMT_URL;
if (!amqpUrl || !managementUrl) throw new Error('run through npm run bench:analytics (needs GEOJOBS_AMQP_URL)');

/** A vhost of its own, deleted afterwards (as bench:broker does). */
async function withVhost<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const name = `geojobs_bench_analytics_${randomUUID().slice(0, 8)}`;
  const base = new URL(managementUrl!);
  const auth = `Basic ${Buffer.from(`${base.username}:${decodeURIComponent(base.password)}`).toString('base64')}`;
  base.username = '';
  base.password = '';
  const call = (method: string, path: string, body?: unknown) =>
    fetch(new URL(path, base), { method, headers: { authorization: auth, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  await call('PUT', `/api/vhosts/${name}`, {});
  await call('PUT', `/api/permissions/${name}/${new URL(amqpUrl!).username}`, { configure: '.*', write: '.*', read: '.*' });
  const url = new URL(amqpUrl!);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString());
  } finally {
    await call('DELETE', `/api/vhosts/${name}`);
  }
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const until = async (done: () => boolean, what: string, timeoutMs = 600_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

const events: AnalyticsEventV1[] = Array.from({ length: EVENTS }, (_, i) => ({
  insertId: randomUUID(),
  event: i % 3 === 0 ? 'resource download' : 'dataset view',
  distinctId: `user-${i % 1_000}`,
  time: Date.now(),
  properties: { 'dataset id': `dataset-${i % 5_000}`, 'org name': 'ocha', 'server side': true, i },
  destinations: ['mixpanel'],
}));

async function throughAnalyticsService(url: string): Promise<number> {
  const server = await MixpanelServer.start({ keep: false });
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'apps', 'analytics-service', 'src', 'main.js')], {
    env: {
      PATH: process.env.PATH,
      GEOJOBS_AMQP_URL: url,
      GEOJOBS_ANALYTICS_PORT: String(port),
      GEOJOBS_LOG_LEVEL: 'warn',
      MIXPANEL_HOST: server.host,
      MIXPANEL_PROTOCOL: 'http',
      MIXPANEL_TOKEN: TOKEN,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const broker = new Broker(
    { url, connectionName: 'bench', deliveryLimit: 10, retryDelaysMs: [1_000], maxAttempts: 5, maxUnconfirmed: 2_000, heartbeatSeconds: 30 },
    pino({ level: 'warn' }),
  );
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`analytics-service exited with ${child.exitCode}`);
      if (await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await broker.start();
    await broker.ready();
    const started = performance.now();
    const confirms: Promise<void>[] = [];
    for (let i = 0; i < events.length; i += PER_MESSAGE) {
      const jobId = randomUUID();
      confirms.push(broker.publishCommand('analytics.track', { jobId, events: events.slice(i, i + PER_MESSAGE) }, { correlationId: jobId }));
    }
    await Promise.all(confirms);
    await until(() => server.received >= events.length, 'every event at the local Mixpanel server');
    const ms = performance.now() - started;
    if (server.received !== events.length) throw new Error(`the server received ${server.received} events, expected ${events.length}`);
    return Math.round((events.length / ms) * 1_000);
  } finally {
    await broker.close();
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await server.close();
  }
}

/** The package's own way: `track()` per event (a GET of one base64 event each), `concurrency` at a time. */
async function onePerEvent(concurrency: number): Promise<number> {
  const server = await MixpanelServer.start({ keep: false });
  const mixpanel = Mixpanel.init(TOKEN, { host: server.host, protocol: 'http', keepAlive: true });
  try {
    const started = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < events.length) {
        const event = events[next++];
        await new Promise<void>((resolve, reject) =>
          mixpanel.track(
            event.event,
            { ...event.properties, distinct_id: event.distinctId, time: event.time, $insert_id: event.insertId },
            (error) => (error ? reject(error) : resolve()),
          ),
        );
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const ms = performance.now() - started;
    if (server.received !== events.length) throw new Error(`the server received ${server.received} events, expected ${events.length}`);
    return Math.round((events.length / ms) * 1_000);
  } finally {
    await server.close();
  }
}

const batched = await withVhost(throughAnalyticsService);
const singles = [];
for (const concurrency of TRACK_CONCURRENCIES) singles.push({ concurrency, rate: await onePerEvent(concurrency) });
const pad = (n: number) => String(n).padStart(7);
console.log(`analytics benchmark: ${EVENTS} events to a local Mixpanel-compatible HTTP server on loopback (commands published to the broker directly, not through the gateway yet)`);
console.log(`  analytics-service (${PER_MESSAGE} events/command, batches of up to 2,000)   ${pad(batched)} events/s   (target ≥ 20,000)`);
for (const { concurrency, rate } of singles) {
  const label = `mixpanel package, one track() per event, ${concurrency} in flight`.padEnd(58);
  console.log(`  ${label}${pad(rate)} events/s   ratio ${(batched / rate).toFixed(1)}×   (target ≥ 20×)`);
}
