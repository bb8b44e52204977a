import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { GetMessage } from 'amqplib';
import { Broker, HEADERS, QUEUES, deadLetterQueueOf, eventsFromHdxSendAnalytics, type AnalyticsEventV1, type AnalyticsTrackV1, type Envelope } from '#shared';
import { Ga4Server, localCertificate, MixpanelServer, waitFor } from '../../libs/testing/src/index.js';
import { createTestContext, management, type TestContext } from '../harness/context.js';
import { drainQueue, startTestBroker } from '../harness/broker.js';
import { startService, type RunningService } from '../harness/services.js';

const DAY = 24 * 3_600_000;
const PREFETCH = 20;
const SECRET = 'project-secret';

describe('analytics-service delivers to Mixpanel and GA4 (real RabbitMQ, local HTTPS Mixpanel and GA4 servers)', () => {
  let context: TestContext;
  let broker: Broker;
  let mixpanel: MixpanelServer;
  let ga4: Ga4Server;
  let service: RunningService;
  let certFile: string;
  const dead: GetMessage[] = [];

  beforeAll(async () => {
    context = await createTestContext();
    broker = await startTestBroker(context);
    const certificate = await localCertificate();
    certFile = certificate.certFile;
    // The mixpanel package insists on HTTPS once an API secret is set: the local server has a self-signed
    // certificate, which the service trusts through NODE_EXTRA_CA_CERTS.
    mixpanel = await MixpanelServer.start({ tls: certificate });
    ga4 = await Ga4Server.start();
    service = await startService('analytics-service', context, {
      NODE_EXTRA_CA_CERTS: certFile,
      MIXPANEL_HOST: mixpanel.host,
      MIXPANEL_PROTOCOL: 'https',
      MIXPANEL_TOKEN: 'default-token',
      MIXPANEL_API_SECRET: SECRET,
      GA4_ENDPOINT: ga4.endpoint,
      GA4_MEASUREMENT_ID: 'G-TEST',
      GA4_API_SECRET: 'ga-secret',
      GEOJOBS_PREFETCH: String(PREFETCH),
      ANALYTICS_FLUSH_DELAY_MS: '50',
      ANALYTICS_RETRY_BASE_MS: '50',
      ANALYTICS_RETRY_MAX_MS: '400',
    });
  });

  afterAll(async () => {
    await service?.stop();
    await mixpanel?.close();
    await ga4?.close();
    await broker?.close();
    await context?.dispose();
    if (certFile) rmSync(certFile, { force: true });
  });

  const event = (overrides: Partial<AnalyticsEventV1> = {}): AnalyticsEventV1 => ({
    insertId: randomUUID(),
    event: 'dataset view',
    distinctId: `user-${Math.floor(Math.random() * 5)}`,
    time: Date.now(),
    properties: { dataset: randomUUID(), n: Math.random() },
    destinations: ['mixpanel'],
    ...overrides,
  });

  /** As the gateway will send them: a command per batch of events. */
  const publish = async (events: AnalyticsEventV1[], perMessage = 100) => {
    for (let i = 0; i < events.length; i += perMessage) {
      const jobId = randomUUID();
      await broker.publishCommand('analytics.track', { jobId, events: events.slice(i, i + perMessage) }, { correlationId: jobId });
    }
  };

  const receivedOf = (events: AnalyticsEventV1[]) => {
    const ids = new Set(events.map((e) => e.insertId));
    return mixpanel.records.filter((record) => ids.has(String(record.properties.$insert_id)));
  };

  /** The dead-letter queue, read once per test and kept: later tests look only at their own events. */
  const deadLettersOf = async (events: AnalyticsEventV1[]) => {
    dead.push(...(await drainQueue(context.amqpUrl, deadLetterQueueOf(QUEUES.analytics))));
    const ids = new Set(events.map((e) => e.insertId));
    return dead.filter((message) => {
      const envelope = JSON.parse(message.content.toString()) as Envelope<AnalyticsTrackV1>;
      return envelope.payload.events.some((e) => ids.has(e.insertId));
    });
  };

  const queueDepth = async () => {
    const response = await management(context.managementUrl, 'GET', `/api/queues/${context.vhost}/${QUEUES.analytics}`);
    return (await response.json()) as { messages_ready?: number; messages_unacknowledged?: number };
  };

  const metric = async (name: string, destination: string) => {
    const text = await (await fetch(`${service.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{destination="${destination}"}`));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  it('delivers every event once with its properties: recent ones to /track, older ones to /import with the secret', async () => {
    const recent = Array.from({ length: 250 }, () => event());
    const old = Array.from({ length: 30 }, () => event({ time: Date.now() - 10 * DAY, token: 'other-project' }));
    const events = [...recent, ...old];
    await publish(events, 40);

    await waitFor(() => receivedOf(events).length >= events.length, 'every event at the Mixpanel server');
    const received = receivedOf(events);
    expect(received).toHaveLength(events.length);
    const byId = new Map(received.map((record) => [String(record.properties.$insert_id), record]));
    for (const sent of events) {
      const record = byId.get(sent.insertId)!;
      expect(record).toMatchObject({
        event: 'dataset view',
        properties: { ...sent.properties, distinct_id: sent.distinctId, time: sent.time, token: sent.token ?? 'default-token', mp_lib: 'node' },
      });
    }
    expect(new Set(recent.map((e) => byId.get(e.insertId)!.endpoint))).toEqual(new Set(['track']));
    expect(new Set(old.map((e) => byId.get(e.insertId)!.endpoint))).toEqual(new Set(['import']));
    const basic = `Basic ${Buffer.from(`${SECRET}:`).toString('base64')}`;
    expect(old.every((e) => byId.get(e.insertId)!.authorization === basic)).toBe(true);
    expect(await deadLettersOf(events)).toHaveLength(0);
  });

  it('loses nothing through a burst of 500s and 429s, then counts the retries', async () => {
    const retriedBefore = await metric('geojobs_analytics_events_retried_total', 'mixpanel');
    mixpanel.failNext(3, 500, 'internal error');
    mixpanel.failNext(2, 429);
    mixpanel.failNext(2, 503);
    const events = Array.from({ length: 1_000 }, () => event());
    await publish(events);

    await waitFor(() => new Set(receivedOf(events).map((r) => r.properties.$insert_id)).size === events.length, 'all 1,000 events after the burst');
    expect(receivedOf(events)).toHaveLength(events.length);
    expect(await deadLettersOf(events)).toHaveLength(0);
    expect(await metric('geojobs_analytics_events_retried_total', 'mixpanel')).toBeGreaterThan(retriedBefore);
  });

  it('dead-letters exactly the records Mixpanel refused, each with its reason, and delivers the rest', async () => {
    const events = Array.from({ length: 40 }, (_, i) => event({ properties: { bad: i % 10 === 3, i } }));
    const refusedIds = events.filter((e) => e.properties.bad).map((e) => e.insertId);
    mixpanel.refuse = (record) => (record.properties.bad === true ? "'properties.bad' is not allowed" : undefined);
    try {
      await publish(events, 20);
      await waitFor(() => receivedOf(events).length === events.length - refusedIds.length, 'the accepted events');
      const deadOnes = await waitFor(
        async () => {
          const found = await deadLettersOf(events);
          return found.length >= refusedIds.length ? found : undefined;
        },
        'the refused events in the dead-letter queue',
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      const envelopes = deadOnes.map((message) => JSON.parse(message.content.toString()) as Envelope<AnalyticsTrackV1>);
      expect(
        envelopes
          .map((envelope) => envelope.payload.events.map((e) => e.insertId))
          .flat()
          .sort(),
      ).toEqual([...refusedIds].sort());
      for (const [index, message] of deadOnes.entries()) {
        expect(message.properties.headers).toMatchObject({
          [HEADERS.reason]: 'rejected',
          [HEADERS.error]: "mixpanel: Mixpanel 400: properties: 'properties.bad' is not allowed",
          [HEADERS.originalQueue]: QUEUES.analytics,
          [HEADERS.originalRoutingKey]: 'analytics.track',
        });
        expect(envelopes[index]).toMatchObject({ type: 'analytics.track', payload: { events: [{ destinations: ['mixpanel'], properties: { bad: true } }] } });
      }
      expect(receivedOf(events).some((record) => record.properties.bad === true)).toBe(false);
    } finally {
      mixpanel.refuse = () => undefined;
    }
  });

  it("accepts HDX's send-analytics payload and forwards it to Mixpanel and GA4", async () => {
    const events = eventsFromHdxSendAnalytics({
      event_name: 'resource download',
      send_mixpanel: true,
      mixpanel_token: 'hdx-token',
      mixpanel_tracking_id: 'hdx-user-1',
      mixpanel_meta: { 'resource name': 'roads.geojson', 'org name': 'ocha', 'server side': true },
      send_ga: true,
      ga_meta: { v: '1', t: 'event', tid: 'UA-1', cid: 'ga-client-1', ec: 'resource', ea: 'download', el: 'roads', cd1: 'ocha' },
    });
    await publish(events);

    const [record] = await waitFor(() => (receivedOf(events).length === 1 ? receivedOf(events) : undefined), 'the Mixpanel event');
    expect(record).toMatchObject({
      endpoint: 'track',
      event: 'resource download',
      properties: { distinct_id: 'hdx-user-1', token: 'hdx-token', 'resource name': 'roads.geojson', 'org name': 'ocha', 'server side': true },
    });
    const hit = await waitFor(() => ga4.hits.find((h) => h.body.client_id === 'ga-client-1'), 'the GA4 hit');
    expect(hit.query).toEqual({ measurement_id: 'G-TEST', api_secret: 'ga-secret' });
    expect(hit.body.events).toEqual([
      {
        name: 'resource_download',
        params: { event_category: 'resource', event_action: 'download', event_label: 'roads', cd1: 'ocha' },
        timestamp_micros: events[1].time * 1_000,
      },
    ]);
  });

  it('holds events in the queue, not in memory, while Mixpanel is down, and delivers them when it is back', async () => {
    mixpanel.failNext(1_000_000, 503, 'down for maintenance');
    const events = Array.from({ length: 6_000 }, () => event());
    const messages = events.length / 100;
    try {
      await publish(events);
      // Only the prefetch is taken from the queue; the rest waits there (the management API's figures lag a few seconds).
      const seen = await waitFor(
        async () => {
          const depth = await queueDepth();
          return (depth.messages_ready ?? 0) + (depth.messages_unacknowledged ?? 0) === messages ? depth : undefined;
        },
        'all the messages counted in analytics_q',
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(seen.messages_unacknowledged).toBeLessThanOrEqual(PREFETCH);
      expect(seen.messages_ready).toBeGreaterThanOrEqual(messages - PREFETCH);
      expect(await metric('geojobs_analytics_events_queued', 'mixpanel')).toBeLessThanOrEqual(PREFETCH * 100);
      expect(receivedOf(events)).toHaveLength(0);
    } finally {
      mixpanel.recover();
    }
    await waitFor(() => new Set(receivedOf(events).map((r) => r.properties.$insert_id)).size === events.length, 'every event once Mixpanel is back', {
      timeoutMs: 60_000,
    });
    expect(receivedOf(events)).toHaveLength(events.length);
    expect(await deadLettersOf(events)).toHaveLength(0);
  });

  it('counts sent, retried, rejected and queued events per destination at /metrics', async () => {
    const response = await fetch(`${service.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/plain/);
    expect(await metric('geojobs_analytics_events_sent_total', 'mixpanel')).toBeGreaterThanOrEqual(250 + 30 + 1_000 + 36 + 1 + 6_000);
    expect(await metric('geojobs_analytics_events_sent_total', 'ga4')).toBe(1);
    expect(await metric('geojobs_analytics_events_rejected_total', 'mixpanel')).toBe(4);
    expect(await metric('geojobs_analytics_events_retried_total', 'mixpanel')).toBeGreaterThan(0);
    expect(await metric('geojobs_analytics_events_queued', 'mixpanel')).toBe(0);
  });

  it('refuses to start with an API secret over plain http, naming the variable', async () => {
    await expect(
      startService('analytics-service', context, { MIXPANEL_PROTOCOL: 'http', MIXPANEL_API_SECRET: SECRET, GA4_ENDPOINT: 'not a url' }),
    ).rejects.toThrow(/exited with 78[\s\S]*MIXPANEL_API_SECRET \(value hidden\): needs MIXPANEL_PROTOCOL=https[\s\S]*GA4_ENDPOINT/);
  });
});
