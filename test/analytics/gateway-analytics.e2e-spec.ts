import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Ga4Server, localCertificate, MixpanelServer, waitFor, type MixpanelRecord } from '../../libs/testing/src/index.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { Client } from '../harness/http.js';
import { waitForJob, type Job } from '../harness/jobs.js';
import { startService, type RunningService } from '../harness/services.js';

interface Accepted {
  accepted: number;
  jobId: string;
}

describe('gateway analytics endpoints (real gateway and analytics-service, RabbitMQ, PostgreSQL, local HTTPS Mixpanel and GA4)', () => {
  let context: TestContext;
  let mixpanel: MixpanelServer;
  let ga4: Ga4Server;
  let certFile: string;
  const services: RunningService[] = [];
  let gateway: RunningService;
  let admin: Client;
  let portal: Client;
  let portalKey: string;

  beforeAll(async () => {
    context = await createTestContext();
    const certificate = await localCertificate();
    certFile = certificate.certFile;
    mixpanel = await MixpanelServer.start({ tls: certificate });
    ga4 = await Ga4Server.start();
    gateway = await startService('gateway', context);
    services.push(gateway);
    services.push(
      await startService('analytics-service', context, {
        NODE_EXTRA_CA_CERTS: certFile,
        MIXPANEL_HOST: mixpanel.host,
        MIXPANEL_PROTOCOL: 'https',
        MIXPANEL_TOKEN: 'default-token',
        GA4_ENDPOINT: ga4.endpoint,
        GA4_MEASUREMENT_ID: 'G-TEST',
        GA4_API_SECRET: 'ga-secret',
        ANALYTICS_FLUSH_DELAY_MS: '50',
      }),
    );
    admin = await Client.admin(gateway);
    const { body } = await admin.post<{ key: string }>('/api-keys', { name: 'hdx-portal' });
    portalKey = body.key;
    portal = admin.as(`ApiKey ${portalKey}`);
  });

  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await mixpanel?.close();
    await ga4?.close();
    await context?.dispose();
    if (certFile) rmSync(certFile, { force: true });
  });

  /** The Mixpanel records carrying this test's marker property. */
  const recordsOf = (marker: string): MixpanelRecord[] => mixpanel.records.filter((record) => record.properties.marker === marker);

  it('queues one event, answers 202 at once, delivers it once with its properties, and the job succeeds', async () => {
    const marker = randomUUID();
    const time = Date.now() - 60_000;
    const reply = await portal.post<Accepted>('/analytics/events', {
      event: 'dataset view',
      distinctId: 'user-1',
      time,
      properties: { marker, 'dataset id': 'roads', 'org name': 'ocha', nested: { a: [1, 2] } },
    });
    expect(reply.status).toBe(202);
    expect(reply.body).toEqual({ accepted: 1, jobId: expect.stringMatching(/^[0-9a-f-]{36}$/) });

    const job = await waitForJob(admin, reply.body.jobId, 'succeeded');
    expect(job).toMatchObject({ type: 'analytics.track', owner: 'hdx-portal', result: { events: 1, delivered: 1, refused: 0 } });
    const records = recordsOf(marker);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      endpoint: 'track',
      event: 'dataset view',
      properties: { marker, 'dataset id': 'roads', 'org name': 'ocha', nested: { a: [1, 2] }, distinct_id: 'user-1', time, token: 'default-token' },
    });
    expect(records[0].properties.$insert_id).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
  });

  it('queues a batch as one job and delivers every event once, to the destinations each names', async () => {
    const marker = randomUUID();
    const batch = Array.from({ length: 1_000 }, (_, i) => ({
      event: i % 2 ? 'resource download' : 'dataset view',
      distinctId: `user-${i % 7}`,
      properties: { marker, i },
      ...(i === 0 ? { destinations: ['mixpanel', 'ga4'], token: 'other-project' } : {}),
    }));
    const reply = await portal.post<Accepted>('/analytics/events', batch);
    expect(reply.status).toBe(202);
    expect(reply.body.accepted).toBe(1_000);

    const job = await waitForJob(admin, reply.body.jobId, 'succeeded');
    expect(job.result).toEqual({ events: 1_000, delivered: 1_001, refused: 0 });
    const records = recordsOf(marker);
    expect(records).toHaveLength(1_000);
    expect(new Set(records.map((record) => record.properties.i)).size).toBe(1_000);
    expect(new Set(records.map((record) => record.properties.$insert_id)).size).toBe(1_000);
    expect(records.find((record) => record.properties.i === 0)?.properties.token).toBe('other-project');
    expect(records.find((record) => record.properties.i === 1)).toMatchObject({ event: 'resource download', properties: { distinct_id: 'user-1' } });
    const hit = ga4.hits.find((h) => h.body.events.some((e) => e.params.marker === marker));
    expect(hit?.body).toMatchObject({ client_id: 'user-0', events: [{ name: 'dataset_view', params: { marker, i: 0 } }] });
  });

  it("takes HDX's send-analytics body with the portal key in ?key= and forwards it to Mixpanel and GA4", async () => {
    const marker = randomUUID();
    const cid = `ga-${randomUUID()}`;
    const anonymous = new Client(gateway.url);
    const reply = await anonymous.post(`/api/send-analytics?key=${encodeURIComponent(portalKey)}`, {
      event_name: 'resource download',
      send_mixpanel: true,
      mixpanel_token: 'hdx-token',
      mixpanel_tracking_id: 'hdx-user-1',
      mixpanel_meta: { marker, 'resource name': 'roads.geojson', 'server side': true },
      send_ga: true,
      ga_meta: { v: '1', t: 'event', tid: 'UA-1', cid, ec: 'resource', ea: 'download', el: 'roads', cd1: 'ocha' },
    });
    expect(reply).toMatchObject({ status: 200, body: { success: true } });

    const [record] = await waitFor(() => (recordsOf(marker).length > 0 ? recordsOf(marker) : undefined), 'the Mixpanel event');
    expect(record).toMatchObject({
      event: 'resource download',
      properties: { marker, distinct_id: 'hdx-user-1', token: 'hdx-token', 'resource name': 'roads.geojson', 'server side': true },
    });
    const hit = await waitFor(() => ga4.hits.find((h) => h.body.client_id === cid), 'the GA4 hit');
    expect(hit.body.events).toEqual([
      {
        name: 'resource_download',
        params: { event_category: 'resource', event_action: 'download', event_label: 'roads', cd1: 'ocha' },
        timestamp_micros: expect.any(Number),
      },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(recordsOf(marker)).toHaveLength(1);

    // the usual credentials work too, and GA4 is left out unless asked for (HDX's defaults)
    const second = randomUUID();
    expect((await portal.post('/api/send-analytics', { event_name: 'page view', mixpanel_meta: { marker: second } })).body).toEqual({ success: true });
    const [plain] = await waitFor(() => (recordsOf(second).length > 0 ? recordsOf(second) : undefined), 'the second Mixpanel event');
    expect(plain.properties).toMatchObject({ distinct_id: 'anonymous', token: 'default-token' });
  });

  it('answers 400 naming the field, and queues nothing', async () => {
    const jobsBefore = (await admin.get<Job[]>('/jobs?type=analytics.track&limit=500')).body.length;
    const bad = async (path: string, body: unknown, message: RegExp) => {
      const reply = await portal.post<{ message: string[] }>(path, body);
      expect(reply.status).toBe(400);
      expect(reply.body.message.join('\n')).toMatch(message);
    };
    await bad('/analytics/events', { distinctId: 'u', properties: {} }, /^event: event must be a string$/m);
    await bad(
      '/analytics/events',
      [
        { event: 'e', distinctId: 'u', properties: {} },
        { event: 'e', properties: {} },
      ],
      /^\[1\]\.distinctId: distinctId must be a string$/m,
    );
    await bad('/analytics/events', { event: 'e', distinctId: 'u', properties: 'x' }, /properties must be an object/);
    await bad('/analytics/events', { event: 'e', distinctId: 'u', properties: {}, time: 'yesterday' }, /time must be an integer/);
    await bad('/analytics/events', { event: 'e', distinctId: 'u', properties: {}, destinations: ['amplitude'] }, /destinations must be one of/);
    await bad('/analytics/events', [], /holds 1 to 1000 events, not 0/);
    const tooMany = Array.from({ length: 1_001 }, () => ({ event: 'e', distinctId: 'u', properties: {} }));
    await bad('/analytics/events', tooMany, /holds 1 to 1000 events, not 1001/);
    await bad('/api/send-analytics', { mixpanel_meta: {} }, /event_name must be/);
    await bad('/api/send-analytics', { event_name: 'x', send_ga: 5 }, /send_ga must be one of/);
    await bad('/api/send-analytics', { event_name: 'x', mixpanel_meta: 'nope' }, /mixpanel_meta must be an object/);
    expect((await admin.get<Job[]>('/jobs?type=analytics.track&limit=500')).body).toHaveLength(jobsBefore);
  });

  it('answers 401 without a valid credential; ?key= is only for the HDX endpoint', async () => {
    const anonymous = new Client(gateway.url);
    const event = { event: 'e', distinctId: 'u', properties: {} };
    expect((await anonymous.post('/analytics/events', event)).status).toBe(401);
    expect((await anonymous.post('/api/send-analytics', { event_name: 'x' })).status).toBe(401);
    expect((await anonymous.post('/api/send-analytics?key=not-a-key', { event_name: 'x' })).status).toBe(401);
    expect((await anonymous.post(`/analytics/events?key=${encodeURIComponent(portalKey)}`, event)).status).toBe(401);
  });

  it('fails the job with the reason when the destination refuses every event', async () => {
    const marker = randomUUID();
    mixpanel.refuse = (record) => (record.properties.marker === marker ? "'properties.marker' is not allowed" : undefined);
    try {
      const reply = await portal.post<Accepted>('/analytics/events', [
        { event: 'e', distinctId: 'u', properties: { marker } },
        { event: 'e', distinctId: 'v', properties: { marker } },
      ]);
      expect(reply.status).toBe(202);
      const job = await waitForJob(admin, reply.body.jobId, 'failed');
      expect(job.error).toMatchObject({ type: 'delivery', class: 'AnalyticsEventsRefused' });
      expect(job.error?.message).toMatch(/every event was refused \(2 dead-lettered.*'properties\.marker' is not allowed/);
    } finally {
      mixpanel.refuse = () => undefined;
    }
  });
});
