/**
 * `npm run bench:analytics`: 200,000 analytics events pushed through the gateway — `POST /analytics/events` in
 * batches, several clients at once, authenticated with an API key — and on through RabbitMQ and
 * analytics-service to a local Mixpanel-compatible server, beside the same events sent with the mixpanel
 * package one `track()` per event.
 *
 * The gateway and analytics-service run as their own processes from dist, as in production (a fresh migrated
 * database and a vhost of their own). The clock runs from the first POST until the server has received the
 * last event. Each request of either path gets the same simulated network round trip: the local server
 * answers `latencyMs` after a request arrives (BENCH_LATENCY_MS, default `0,20`: loopback as it is, and a
 * 20 ms round trip like a nearby region's). With a round trip the one-per-event rate is set by round trips
 * alone, so that path is measured on a sample (every in-flight slot sends BENCH_TRACK_ROUND_TRIPS events).
 */
import Mixpanel from 'mixpanel';
import { MixpanelServer, waitFor } from '../libs/testing/src/index.js';
import { freshDatabase, isMain, startBenchGateway, startBenchService, withVhost, type BenchService } from './support/bench-env.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
/** Events per `POST /analytics/events` (the gateway's default GEOJOBS_ANALYTICS_MAX_BATCH). */
const BATCH = Number(process.env.BENCH_BATCH ?? 1_000);
/** Concurrent HTTP clients posting batches to the gateway. */
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);
const LATENCIES_MS = (process.env.BENCH_LATENCY_MS ?? '0,20').split(',').map(Number);
/**
 * In-flight track() calls of the one-per-event path: 1 is how HDX's job processor sent them (one worker, one
 * event after another); 64 is a generous parallel sender (the package has no limit of its own).
 */
const TRACK_CONCURRENCIES = (process.env.BENCH_TRACK_CONCURRENCY ?? '1,64').split(',').map(Number);
/** With a simulated round trip, each in-flight slot of the one-per-event path sends this many events. */
const TRACK_ROUND_TRIPS = Number(process.env.BENCH_TRACK_ROUND_TRIPS ?? 250);
const TOKEN = 'bench-token';

/** The events as the portal posts them; the gateway gives each its insertId. */
const events = Array.from({ length: EVENTS }, (_, i) => ({
  event: i % 3 === 0 ? 'resource download' : 'dataset view',
  distinctId: `user-${i % 1_000}`,
  time: Date.now(),
  properties: { 'dataset id': `dataset-${i % 5_000}`, 'org name': 'ocha', 'server side': true, i },
}));

async function json<T>(response: Promise<Response>): Promise<T> {
  const reply = await response;
  if (!reply.ok) throw new Error(`HTTP ${reply.status}: ${await reply.text()}`);
  return (await reply.json()) as T;
}

export interface GatewayRun {
  /** Events per second delivered: first POST to the last event at the server. */
  delivered: number;
  /** Events per second accepted: first POST to the last 202. */
  accepted: number;
}

/** Batches of BATCH events posted by CLIENTS clients with an API key; gateway → outbox → RabbitMQ → analytics-service → server. */
async function throughGateway(vhostUrl: string, latencyMs: number): Promise<GatewayRun> {
  const database = await freshDatabase('geojobs_bench_analytics');
  const server = await MixpanelServer.start({ keep: false, latencyMs });
  const services: BenchService[] = [];
  try {
    services.push(
      await startBenchService('analytics-service', 'GEOJOBS_ANALYTICS_PORT', {
        GEOJOBS_AMQP_URL: vhostUrl,
        MIXPANEL_HOST: server.host,
        MIXPANEL_PROTOCOL: 'http',
        MIXPANEL_TOKEN: TOKEN,
      }),
    );
    const gateway = await startBenchGateway(vhostUrl, database.name, { GEOJOBS_ANALYTICS_MAX_BATCH: String(Math.max(BATCH, 1)) });
    services.push(gateway);
    const base = gateway.url;
    const post = (path: string, body: string, authorization?: string) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body });
    const { key } = await json<{ key: string }>(post('/api-keys', JSON.stringify({ name: 'bench-portal' }), `Bearer ${gateway.token}`));
    const authorization = `ApiKey ${key}`;
    const bodies: string[] = [];
    for (let i = 0; i < events.length; i += BATCH) bodies.push(JSON.stringify(events.slice(i, i + BATCH)));

    const started = performance.now();
    let next = 0;
    const client = async () => {
      while (next < bodies.length) {
        const { accepted } = await json<{ accepted: number }>(post('/analytics/events', bodies[next++], authorization));
        if (accepted <= 0) throw new Error('the gateway accepted no events');
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
    const acceptedMs = performance.now() - started;
    await waitFor(() => server.received >= events.length, 'every event at the local Mixpanel server', { timeoutMs: 600_000, intervalMs: 5 });
    const ms = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 200));
    if (server.received !== events.length) throw new Error(`the server received ${server.received} events, expected ${events.length}`);
    return { delivered: Math.round((events.length / ms) * 1_000), accepted: Math.round((events.length / acceptedMs) * 1_000) };
  } finally {
    for (const service of services) await service.stop();
    await server.close();
    await database.remove();
  }
}

export interface TrackRun {
  rate: number;
  sent: number;
}

/**
 * The package's own way: `track()` per event (a GET of one base64 event each), `concurrency` at a time. With
 * a simulated round trip only the first `concurrency × TRACK_ROUND_TRIPS` events are sent: the rate is round
 * trips per second times the slots, whatever the number of events.
 */
async function onePerEvent(concurrency: number, latencyMs: number): Promise<TrackRun> {
  const server = await MixpanelServer.start({ keep: false, latencyMs });
  const mixpanel = Mixpanel.init(TOKEN, { host: server.host, protocol: 'http', keepAlive: true });
  const count = latencyMs > 0 ? Math.min(events.length, concurrency * TRACK_ROUND_TRIPS) : events.length;
  try {
    const started = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const index = next++;
        const event = events[index];
        await new Promise<void>((resolve, reject) =>
          mixpanel.track(event.event, { ...event.properties, distinct_id: event.distinctId, time: event.time, $insert_id: `bench-${index}` }, (error) =>
            error ? reject(error) : resolve(),
          ),
        );
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const ms = performance.now() - started;
    if (server.received !== count) throw new Error(`the server received ${server.received} events, expected ${count}`);
    return { rate: Math.round((count / ms) * 1_000), sent: count };
  } finally {
    await server.close();
  }
}

/** What one simulated round trip gave: the gateway's delivered rate and each one-per-event sender's. */
export interface AnalyticsResult {
  latencyMs: number;
  gateway: GatewayRun;
  singles: { concurrency: number; run: TrackRun }[];
}

/** Both paths at each simulated round trip (BENCH_LATENCY_MS); prints and returns the rates. */
export async function runAnalytics(): Promise<AnalyticsResult[]> {
  const results: AnalyticsResult[] = [];
  const pad = (n: number) => String(n).padStart(7);
  console.log(
    `analytics benchmark: ${EVENTS} events, POST /analytics/events in batches of ${BATCH} by ${CLIENTS} clients (API key) → gateway → ` +
      'outbox → RabbitMQ → analytics-service → a local Mixpanel-compatible HTTP server on loopback',
  );
  for (const latencyMs of LATENCIES_MS) {
    const run = await withVhost('geojobs_bench_analytics', (url) => throughGateway(url, latencyMs));
    const singles: { concurrency: number; run: TrackRun }[] = [];
    for (const concurrency of TRACK_CONCURRENCIES) singles.push({ concurrency, run: await onePerEvent(concurrency, latencyMs) });
    results.push({ latencyMs, gateway: run, singles });
    console.log(
      latencyMs > 0
        ? `\n  with a SIMULATED ${latencyMs} ms round trip per request (the local server waits ${latencyMs} ms before answering each request, in both paths):`
        : '\n  real loopback, no simulated latency (≈ 0.1 ms per request: the one-per-event path pays nothing for its many requests):',
    );
    console.log(
      `    through the gateway, delivered at the server (accepted: ${run.accepted} events/s)${' '.repeat(2)}${pad(run.delivered)} events/s   (target ≥ 20,000)`,
    );
    for (const { concurrency, run: single } of singles) {
      const sample = single.sent < EVENTS ? `, first ${single.sent} events` : '';
      const label = `mixpanel package, one track() per event, ${concurrency} in flight${sample}`.padEnd(80);
      console.log(`    ${label}${pad(single.rate)} events/s   ratio ${(run.delivered / single.rate).toFixed(1)}×   (target ≥ 20×)`);
    }
  }
  return results;
}

if (isMain(import.meta.url)) await runAnalytics();
