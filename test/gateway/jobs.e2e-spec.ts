import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { GetMessage } from 'amqplib';
import { type BatchedEvent, deadLetterQueueOf, type Envelope, eventEnvelope, EXCHANGES, HEADERS, type JobBatchV1, QUEUES } from '#shared';
import { waitFor } from '../../libs/testing/src/index.js';
import { drainQueue, startTestBroker, Tap } from '../harness/broker.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { Client } from '../harness/http.js';
import { submitJob, waitForJob, type Job } from '../harness/jobs.js';
import { startService, type RunningService } from '../harness/services.js';

describe('gateway jobs API (real gateway, services, RabbitMQ, PostgreSQL)', () => {
  let context: TestContext;
  let gateway: RunningService;
  const services: RunningService[] = [];
  let admin: Client;
  let events: Tap;

  beforeAll(async () => {
    context = await createTestContext();
    events = await Tap.on(context.amqpUrl, EXCHANGES.events, 'job.#');
    gateway = await startService('gateway', context);
    services.push(gateway);
    // export-service takes one job at a time, so a second export job stays queued behind a long one
    services.push(await startService('geo-service', context));
    services.push(await startService('export-service', context, { GEOJOBS_PREFETCH: '1' }));
    admin = await Client.admin(gateway);
  });

  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await events?.close();
    await context?.dispose();
  });

  const submit = (client: Client, input: Record<string, unknown>) => submitJob(client, { type: 'noop', input });

  it('runs a noop job through its whole lifecycle', async () => {
    const job = await submit(admin, { service: 'geo', sleepMs: 200 });
    expect(job).toMatchObject({ type: 'noop', state: 'queued', progress: { current: 0, total: 0 }, result: null, owner: 'admin' });
    const done = await waitForJob(admin, job.id, 'succeeded');
    expect(done.result).toEqual({ sleptMs: 200 });
    expect(done.progress).toMatchObject({ current: 4, total: 4 });
    expect(done.startedAt).not.toBeNull();
    expect(done.history!.transitions.map((transition) => transition.state)).toEqual(['queued', 'running', 'succeeded']);
    expect(done.history!.transitions.every((transition) => !Number.isNaN(Date.parse(transition.at)))).toBe(true);
    expect(Date.parse(done.history!.transitions[0].at)).toBe(Date.parse(done.createdAt)); // queued when created
    expect(done).toMatchObject({ children: null, followupRuns: [], history: { retryOf: null, retries: [] } });

    const failed = await submit(admin, { service: 'geo', fail: 'the file is corrupt' });
    expect((await waitForJob(admin, failed.id, 'failed')).error).toEqual({ type: 'noop', class: 'NoopFailure', message: 'the file is corrupt' });
  });

  it('shows a job that ended before its service reported it started as having run, from when it started', async () => {
    // no sleep: the service sends only job.succeeded, carrying when it started
    const quick = await waitForJob(admin, (await submit(admin, { service: 'geo' })).id, 'succeeded');
    const failed = await waitForJob(admin, (await submit(admin, { service: 'geo', fail: 'at once' })).id, 'failed');
    for (const job of [quick, failed]) {
      const states = job.history!.transitions.map((transition) => transition.state);
      expect(states).toEqual(['queued', 'running', job.state]);
      const running = job.history!.transitions[1];
      expect(job.startedAt).not.toBeNull();
      expect(Date.parse(running.at)).toBe(Date.parse(job.startedAt!));
      expect(Date.parse(job.startedAt!)).toBeLessThanOrEqual(Date.parse(job.finishedAt!));
      expect(Date.parse(job.startedAt!)).toBeGreaterThanOrEqual(Date.parse(job.createdAt) - 1_000); // clocks of one machine
    }
  });

  it('streams progress then the final state as server-sent events', async () => {
    const job = await submit(admin, { service: 'geo', sleepMs: 800 });
    const response = await fetch(`${gateway.url}/jobs/${job.id}/events`, { headers: { authorization: admin.authorization! } });
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const text = await response.text(); // the stream ends at the final state
    const frames = text
      .split('\n\n')
      .filter((frame) => frame.includes('data:'))
      .map((frame) => ({
        type: /^event: (.*)$/m.exec(frame)?.[1],
        job: JSON.parse(/^data: (.*)$/m.exec(frame)![1]) as Job,
      }));
    const progress = frames.filter((frame) => frame.job.state === 'running' && frame.job.progress.current > 0);
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(frames.at(-1)).toMatchObject({ type: 'end', job: { state: 'succeeded' } });
    expect(frames.findIndex((frame) => frame === progress[0])).toBeLessThan(frames.length - 1);
  });

  it('cancels a queued job, which then never starts, and a running one, which stops', async () => {
    const blocker = await submit(admin, { service: 'export', sleepMs: 1_500 });
    await waitForJob(admin, blocker.id, 'running');
    const queued = await submit(admin, { service: 'export', sleepMs: 10 });
    const cancelled = await admin.post<Job>(`/jobs/${queued.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe('cancelled');
    expect((await admin.post<Job>(`/jobs/${queued.id}/cancel`)).body.state).toBe('cancelled'); // idempotent

    const running = await submit(admin, { service: 'geo', sleepMs: 60_000 });
    await waitForJob(admin, running.id, 'running');
    expect((await admin.post<Job>(`/jobs/${running.id}/cancel`)).body.state).toBe('cancelled');

    await waitForJob(admin, blocker.id, 'succeeded');
    const after = await submit(admin, { service: 'export', sleepMs: 10 });
    await waitForJob(admin, after.id, 'succeeded'); // the queued job's command came and went before this one
    const seen = (id: string) =>
      events
        .envelopes<{ jobId: string }>()
        .filter((event) => event.payload.jobId === id)
        .map((event) => event.type);
    expect(seen(queued.id)).toEqual(['job.cancelled']);
    expect(seen(running.id)).toEqual(['job.started', 'job.cancelled']);
    expect((await admin.get<Job>(`/jobs/${running.id}`)).body.state).toBe('cancelled');
    expect((await admin.post(`/jobs/${blocker.id}/cancel`)).status).toBe(409);
  });

  it('creates exactly one job from 50 concurrent identical submissions', async () => {
    // long enough to be still queued or running when the last of the 50 arrives, however loaded the machine
    const input = { service: 'geo', sleepMs: 5_000, fail: `marker ${randomUUID()}` };
    const replies = await Promise.all(Array.from({ length: 50 }, () => admin.post<Job>('/jobs', { type: 'noop', input })));
    const ids = new Set(replies.map((reply) => reply.body.id));
    expect(ids.size).toBe(1);
    expect(replies.filter((reply) => reply.status === 202)).toHaveLength(1);
    expect(replies.filter((reply) => reply.status === 200)).toHaveLength(49);

    const key = randomUUID();
    const keyed = await Promise.all(
      Array.from({ length: 20 }, (_, i) => admin.post<Job>('/jobs', { type: 'noop', input: { service: 'geo', sleepMs: i }, idempotencyKey: key })),
    );
    expect(new Set(keyed.map((reply) => reply.body.id)).size).toBe(1);
  });

  it('takes an array of jobs in one transaction and answers in order', async () => {
    const batch = Array.from({ length: 1_000 }, (_, i) => ({ type: 'noop', input: { service: 'analytics', sleepMs: i } }));
    const reply = await admin.post<Job[]>('/jobs', batch);
    expect(reply.status).toBe(202);
    expect(reply.body).toHaveLength(1_000);
    expect(reply.body.map((job) => (job as unknown as { input: { sleepMs: number } }).input.sleepMs)).toEqual(batch.map((_, i) => i));

    const tooMany = await admin.post('/jobs', [...batch, batch[0]]);
    expect(tooMany.status).toBe(400);
  });

  it('applies the events of a job.batch as if each had come alone, dead-letters a malformed one alone, and a redelivery once', async () => {
    // analytics-service is not running here: its jobs stay queued until the batch below reports them (inputs of no
    // other test's job, which would be the same job)
    const [first, second] = await Promise.all([
      submit(admin, { service: 'analytics', sleepMs: 10_001 }),
      submit(admin, { service: 'analytics', sleepMs: 10_002 }),
    ]);
    const succeeded = (jobId: string, result: Record<string, unknown>) =>
      eventEnvelope('job.succeeded', { jobId, result, startedAt: new Date().toISOString() }, { correlationId: jobId, causationId: randomUUID() });
    const badPayload = succeeded('not-a-job-id', {});
    const notLifecycle = eventEnvelope('job.cancelled', { jobId: first.id }, { correlationId: first.id });
    const batch = eventEnvelope(
      'job.batch',
      { events: [succeeded(first.id, { n: 1 }), badPayload, succeeded(second.id, { n: 2 }), notLifecycle] as BatchedEvent[] },
      { correlationId: randomUUID() },
    );
    const broker = await startTestBroker(context);
    try {
      await broker.publishEnvelope(EXCHANGES.events, batch);
      expect((await waitForJob(admin, first.id, 'succeeded')).result).toEqual({ n: 1 });
      const done = await waitForJob(admin, second.id, 'succeeded');
      expect(done.result).toEqual({ n: 2 });

      const deadLetters: GetMessage[] = [];
      await waitFor(async () => {
        deadLetters.push(...(await drainQueue(context.amqpUrl, deadLetterQueueOf(QUEUES.saga))));
        return deadLetters.length >= 2;
      }, 'the two malformed events to be dead-lettered');
      const dead = deadLetters.map((message) => ({
        reason: message.properties.headers?.[HEADERS.reason],
        error: String(message.properties.headers?.[HEADERS.error]),
        events: (JSON.parse(message.content.toString()) as Envelope<JobBatchV1>).payload.events,
      }));
      expect(dead).toEqual([
        { reason: 'malformed', error: 'events[1]: invalid job.succeeded payload: jobId: jobId must be a UUID', events: [badPayload] },
        { reason: 'malformed', error: expect.stringContaining('events[3]: a job.batch carries'), events: [notLifecycle] },
      ]);

      // the same message again (a redelivery): its events are in the inbox, and the jobs are as they were
      await broker.publishEnvelope(EXCHANGES.events, batch);
      const marker = await submit(admin, { service: 'analytics', sleepMs: 10_003 });
      await broker.publishEnvelope(
        EXCHANGES.events,
        eventEnvelope('job.batch', { events: [succeeded(marker.id, {}), succeeded(marker.id, {})] }, { correlationId: marker.id }),
      );
      await waitForJob(admin, marker.id, 'succeeded');
      const again = await admin.get<Job>(`/jobs/${second.id}`);
      expect(again.body).toMatchObject({ result: { n: 2 }, startedAt: done.startedAt, finishedAt: done.finishedAt });
      expect(again.body.history!.transitions.map((transition) => transition.state)).toEqual(['queued', 'running', 'succeeded']);
    } finally {
      await broker.close();
    }
  });

  it('keeps accepting jobs when a release adds a column to the jobs table while it runs (a rolling migration)', async () => {
    // 30 at once: every connection of the gateway's pool has prepared its insert before the column comes
    const burst = (label: string) =>
      Promise.all(Array.from({ length: 30 }, (_, i) => submit(admin, { service: 'analytics', sleepMs: 1, fail: `${label} ${i}` })));
    await burst('before');
    const db = new pg.Client({ connectionString: context.databaseUrls.admin });
    await db.connect();
    try {
      await db.query('ALTER TABLE jobs.jobs ADD COLUMN added_by_a_later_release text');
    } finally {
      await db.end();
    }
    const after = await burst('after');
    expect(after.map((job) => job.state)).toEqual(Array.from({ length: 30 }, () => 'queued'));
  });

  it('answers invalid bodies with 400 naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ type: 'noop', input: { service: 'mars' } }, /input\.service: service must be one of/],
      [{ type: 'noop', input: { service: 'geo', sleepMs: -5 } }, /input\.sleepMs: sleepMs must not be less than 0/],
      [{ type: 'teleport', input: {} }, /type must be one of: noop, geo\.preview, analytics\.track/],
      [{ type: 'noop' }, /input: input must be an object/],
      [
        [
          { type: 'noop', input: { service: 'geo' } },
          { type: 'noop', input: { service: 'geo', fail: 7 } },
        ],
        /\[1\]\.input\.fail: fail must be a string/,
      ],
      [{ type: 'noop', input: { service: 'geo' }, followups: { onSuccess: [{ type: 'webhook', url: 'not a url' }] } }, /followups\.onSuccess\.0\.url/],
    ];
    for (const [body, message] of cases) {
      const reply = await admin.post<{ message: string[] }>('/jobs', body);
      expect(reply.status).toBe(400);
      expect(reply.body.message.join('\n')).toMatch(message);
    }
  });

  it('lists jobs with filters and shows each owner only its own', async () => {
    const portalA = await apiKeyClient('portal-a');
    const portalB = await apiKeyClient('portal-b');
    const mine = await submit(portalA, { service: 'geo', sleepMs: 1 });
    expect(mine.owner).toBe('portal-a');
    expect((await portalB.get(`/jobs/${mine.id}`)).status).toBe(404);
    expect((await admin.get<Job>(`/jobs/${mine.id}`)).body.id).toBe(mine.id);
    const listed = await portalA.get<Job[]>('/jobs?type=noop&limit=10');
    expect(listed.body.map((job) => job.id)).toEqual([mine.id]);
    expect((await portalB.get<Job[]>('/jobs')).body).toEqual([]);
    await waitForJob(admin, mine.id, 'succeeded');
    expect((await portalA.get<Job[]>('/jobs?state=succeeded')).body.map((job) => job.id)).toEqual([mine.id]);
    expect((await portalA.get<Job[]>('/jobs?state=queued')).body).toEqual([]);
  });

  const apiKeyClient = async (name: string) => {
    const { body } = await admin.post<{ key: string }>('/api-keys', { name });
    return admin.as(`ApiKey ${body.key}`);
  };

  describe('credentials', () => {
    const jobId = randomUUID();
    const endpoints: [string, string][] = [
      ['POST', '/jobs'],
      ['GET', '/jobs'],
      ['GET', `/jobs/${jobId}`],
      ['GET', `/jobs/${jobId}/events`],
      ['POST', `/jobs/${jobId}/cancel`],
      ['GET', `/jobs/${jobId}/result`],
      ['POST', '/tokens/temporary'],
      ['POST', '/users'],
      ['POST', '/api-keys'],
      ['GET', '/metrics'],
    ];

    it('refuses every endpoint without a credential (401), but not /health', async () => {
      const anonymous = admin.as(undefined);
      for (const [method, path] of endpoints) {
        const reply = await anonymous.request(method, path, method === 'POST' ? {} : undefined);
        expect([method, path, reply.status]).toEqual([method, path, 401]);
      }
      expect((await anonymous.get('/health')).status).toBe(200);
    });

    it('issues tokens for good credentials only', async () => {
      const anonymous = admin.as(undefined);
      const bad = await anonymous.post<{ message: string }>('/token', { username: 'admin', password: 'wrong' });
      expect(bad.status).toBe(401);
      expect(bad.body.message).toBe('wrong username or password');
      const form = await fetch(`${gateway.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username: 'admin', password: 'correct horse battery staple' }),
      });
      expect(await form.json()).toMatchObject({ status: 'SUCCESS', token_type: 'Bearer', expires_in: 3600, access_token: expect.any(String) });
    });

    it('limits a temporary token to its methods and paths (403 outside), and refuses it expired or tampered', async () => {
      const job = await submit(admin, { service: 'geo', sleepMs: 1 });
      const minted = await admin.post<{ access_token: string; token_type: string }>('/tokens/temporary', {
        methods: ['GET'],
        paths: [`/jobs/${job.id}`],
        expiresIn: 2,
      });
      expect(minted.body.token_type).toBe('TmpToken');
      const scoped = admin.as(`TmpToken ${minted.body.access_token}`);
      expect((await scoped.get<Job>(`/jobs/${job.id}`)).status).toBe(200);
      expect((await scoped.get(`/jobs/${job.id}/result`)).status).toBe(404); // inside the prefix: allowed, no file yet
      expect((await scoped.get('/jobs')).status).toBe(403);
      expect((await scoped.get(`/jobs/${randomUUID()}`)).status).toBe(403);
      expect((await scoped.post(`/jobs/${job.id}/cancel`)).status).toBe(403);
      expect((await scoped.post('/jobs', { type: 'noop', input: { service: 'geo' } })).status).toBe(403);

      const token = minted.body.access_token;
      const tampered = token.slice(0, -3) + (token.endsWith('AAA') ? 'BBB' : 'AAA');
      expect((await admin.as(`TmpToken ${tampered}`).get(`/jobs/${job.id}`)).status).toBe(401);
      expect((await admin.as(`Bearer ${token}`).get(`/jobs/${job.id}`)).status).toBe(401); // not an access token
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect((await scoped.get(`/jobs/${job.id}`)).status).toBe(401);
    });

    it('keeps readers read-only and admin endpoints for admins', async () => {
      await admin.post('/users', { username: 'watcher', password: 'long enough', role: 'reader' });
      const { body } = await admin.as(undefined).post<{ access_token: string }>('/token', { username: 'watcher', password: 'long enough' });
      const reader = admin.as(`Bearer ${body.access_token}`);
      expect((await reader.get('/jobs')).status).toBe(200);
      expect((await reader.post('/jobs', { type: 'noop', input: { service: 'geo' } })).status).toBe(403);
      expect((await reader.post('/api-keys', { name: 'x' })).status).toBe(403);
      const portal = await apiKeyClient('portal-c');
      expect((await portal.get('/metrics')).status).toBe(403);
    });

    it('rate-limits logins per client address', async () => {
      const anonymous = admin.as(undefined);
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 12; attempt++) {
        statuses.push((await anonymous.post('/token', { username: 'admin', password: `guess ${attempt}` })).status);
      }
      expect(statuses).toContain(429);
      expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(10);
    });
  });

  it('exposes Prometheus metrics: jobs by state and type, publish failures, HTTP latency', async () => {
    const reply = await admin.get<string>('/metrics');
    expect(reply.status).toBe(200);
    expect(reply.body).toMatch(/geojobs_jobs\{type="noop",state="succeeded"\} \d+/);
    expect(reply.body).toMatch(/geojobs_outbox_publish_failures_total \d+/);
    expect(reply.body).toMatch(/geojobs_http_request_duration_seconds_bucket\{.*route="\/jobs".*\}/);
  });
});
