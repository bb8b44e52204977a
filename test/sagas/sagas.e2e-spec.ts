import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { EXCHANGES } from '#shared';
import type { JobError } from '../../apps/gateway/src/job-model/job.model.js';
import type { JobTreeNode } from '../../apps/gateway/src/sagas/job-tree.js';
import { waitFor } from '../../libs/testing/src/index.js';
import { startTestBroker, Tap } from '../harness/broker.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { Client } from '../harness/http.js';
import { submitJob, waitForJob, type Job, type JobRequest } from '../harness/jobs.js';
import { startService, type RunningService } from '../harness/services.js';
import { WebhookReceiver } from './webhook-receiver.js';

/** What a saga's job holds as its result: how its subtasks ended, every error, and what its merge step returned. */
interface SagaResult {
  children: { total: number; succeeded: number; failed: number; cancelled: number };
  errors: (JobError & { jobId: string })[];
  merge?: unknown;
}

const SECRET = 'a shared webhook secret';
/** A settle period after the outcome, to see that nothing more arrives. */
const QUIET_MS = 1_000;
/** The test's webhook receiver listens on loopback, which webhooks may reach only when allow-listed. */
const ALLOW_LOOPBACK = { GEOJOBS_ALLOWED_HOSTS: '127.0.0.1' };

describe('sagas and followups (real gateway, services, RabbitMQ, PostgreSQL)', () => {
  let context: TestContext;
  let gateway: RunningService;
  const services: RunningService[] = [];
  let admin: Client;
  let webhooks: WebhookReceiver;
  let commands: Tap;

  beforeAll(async () => {
    context = await createTestContext();
    webhooks = await WebhookReceiver.start(SECRET);
    commands = await Tap.on(context.amqpUrl, EXCHANGES.commands, 'analytics.track');
    gateway = await startService('gateway', context, ALLOW_LOOPBACK);
    services.push(await startService('geo-service', context));
    services.push(await startService('export-service', context));
    admin = await Client.admin(gateway);
  });

  afterAll(async () => {
    await Promise.all([gateway, ...services].map((service) => service?.stop()));
    await commands?.close();
    await webhooks?.close();
    await context?.dispose();
  });

  const submit = (request: JobRequest) => submitJob(admin, request);
  const get = async (id: string) => (await admin.get<Job<SagaResult>>(`/jobs/${id}`)).body;
  const hook = (path: string) => ({ type: 'webhook' as const, url: webhooks.url(path), secret: SECRET });

  it('runs a saga of 1,000 subtasks, merges it, and fires its webhook exactly once, signed', async () => {
    const path = `/done/${randomUUID()}`;
    const parent = await submit({
      type: 'noop',
      input: { service: 'geo', children: 1_000 },
      followups: { onSuccess: [hook(path), { type: 'analytics', event: 'saga done', properties: { batch: 7 } }], onFailure: [hook(`${path}/failed`)] },
    });
    expect(parent.state).toBe('running'); // scheduled, not finished: no followup yet
    expect(webhooks.to(path)).toHaveLength(0);

    const done = await waitForJob<SagaResult>(admin, parent.id, 'succeeded', { what: 'the saga to succeed' });
    expect(done.result).toEqual({ children: { total: 1_000, succeeded: 1_000, failed: 0, cancelled: 0 }, errors: [] });
    expect(done.children).toMatchObject({ total: 1_000, byState: { succeeded: 1_000 }, percent: 100 });
    expect(done.children!.jobs).toHaveLength(1_000);
    expect(done.children!.jobs!.every((child) => child.state === 'succeeded')).toBe(true);
    const listed = await admin.get<Job[]>(`/jobs?parentId=${parent.id}&limit=500`);
    expect(listed.body).toHaveLength(500);
    expect(listed.body.every((child) => child.parentId === parent.id)).toBe(true);
    const topLevel = await admin.get<Job[]>('/jobs?limit=500');
    expect(topLevel.body.every((job) => job.parentId === null)).toBe(true); // subtasks are listed under their parent only

    await waitFor(() => webhooks.to(path).length > 0, 'the webhook');
    await waitFor(() => commands.envelopes().some((e) => (e.payload as { jobId?: string }).jobId === parent.id), 'the analytics event');
    await sleep(QUIET_MS);
    const [delivery] = webhooks.to(path);
    expect(webhooks.to(path)).toHaveLength(1);
    expect(webhooks.to(`${path}/failed`)).toHaveLength(0);
    expect(delivery.signed).toBe(true);
    expect(delivery.body).toMatchObject({ id: parent.id, state: 'succeeded', result: { children: { succeeded: 1_000 } } });
    expect(JSON.stringify(delivery.body)).not.toContain(SECRET); // the body shows the followups, secrets redacted

    const tracked = commands
      .envelopes<{ jobId: string; events: { event: string; properties: Record<string, unknown> }[] }>()
      .filter((e) => e.payload.jobId === parent.id);
    expect(tracked).toHaveLength(1);
    expect(tracked[0].payload.events[0]).toMatchObject({ event: 'saga done', properties: { batch: 7, jobId: parent.id, state: 'succeeded' } });

    const runs = (await get(parent.id)).followupRuns!;
    expect(runs).toEqual([
      expect.objectContaining({ outcome: 'succeeded', index: 0, type: 'webhook', state: 'succeeded', attempts: 1 }),
      expect.objectContaining({ outcome: 'succeeded', index: 1, type: 'analytics', state: 'succeeded' }),
    ]);
  });

  it('under all-settled, lets every subtask settle and runs onFailure once with every error', async () => {
    const path = `/failed/${randomUUID()}`;
    const parent = await submit({
      type: 'noop',
      input: { service: 'export', children: 1_000, failChildren: 3 },
      followups: { onSuccess: [hook(`${path}/ok`)], onFailure: [hook(path)] },
    });
    const done = await waitForJob<SagaResult>(admin, parent.id, 'failed', { what: 'the saga to fail' });
    expect(done.children).toMatchObject({ total: 1_000, byState: { succeeded: 997, failed: 3 }, percent: 100 });
    expect(done.error).toMatchObject({ type: 'saga', class: 'SubtasksFailed', message: '3 failed of 1000 subtasks' });
    expect(done.result!.children).toEqual({ total: 1_000, succeeded: 997, failed: 3, cancelled: 0 });
    expect(done.result!.errors.map((error) => error.message).sort()).toEqual(['subtask 1 failed', 'subtask 2 failed', 'subtask 3 failed']);

    await waitFor(() => webhooks.to(path).length > 0, 'the onFailure webhook');
    await sleep(QUIET_MS);
    expect(webhooks.to(path)).toHaveLength(1);
    expect(webhooks.to(`${path}/ok`)).toHaveLength(0);
    expect(webhooks.to(path)[0].signed).toBe(true);
    expect((webhooks.to(path)[0].body.result as { errors: unknown[] }).errors).toHaveLength(3);
  });

  it('under fail-fast, fails at the first failure and cancels the rest', async () => {
    const path = `/fast/${randomUUID()}`;
    const parent = await submit({
      type: 'noop',
      input: { service: 'geo', children: 1_000, failChildren: 1, child: { service: 'geo', sleepMs: 50 } },
      saga: { policy: 'fail-fast' },
      followups: { onFailure: [hook(path)] },
    });
    const done = await waitForJob<SagaResult>(admin, parent.id, 'failed', { what: 'the saga to fail fast' });
    expect(done.error).toMatchObject({ class: 'SubtaskFailed', message: 'a subtask failed (fail-fast): subtask 1 failed' });
    // nothing stays out: every subtask settles, most by being cancelled
    const settled = await waitForJob<SagaResult>(admin, parent.id, (job) => (job.children!.byState.queued ?? 0) + (job.children!.byState.running ?? 0) === 0, {
      what: 'every subtask to settle',
    });
    expect(settled.children!.byState.failed).toBe(1);
    expect(settled.children!.byState.cancelled).toBeGreaterThan(500);
    expect(settled.state).toBe('failed');
    await waitFor(() => webhooks.to(path).length > 0, 'the onFailure webhook');
    await sleep(QUIET_MS);
    expect(webhooks.to(path)).toHaveLength(1);
  });

  it('fails a saga whose subtasks never answer at its deadline, and cancels them', async () => {
    const path = `/late/${randomUUID()}`;
    const parent = await submit({
      type: 'noop',
      input: { service: 'geo', children: 3, child: { service: 'geo', sleepMs: 3_600_000 } },
      saga: { policy: 'all-settled', deadlineSeconds: 2 },
      followups: { onFailure: [hook(path)] },
    });
    const done = await waitForJob<SagaResult>(admin, parent.id, 'failed', { what: 'the saga to miss its deadline', timeoutMs: 20_000 });
    expect(done.error).toMatchObject({ type: 'saga', class: 'SagaDeadlineExceeded' });
    expect(done.error!.message).toMatch(/^3 of 3 subtasks had not reported by /);
    const settled = await waitForJob<SagaResult>(admin, parent.id, (job) => job.children!.byState.cancelled === 3, { what: 'the subtasks to be cancelled' });
    expect(settled.children!.percent).toBe(100);
    await waitFor(() => webhooks.to(path).length > 0, 'the onFailure webhook');
    await sleep(QUIET_MS);
    expect(webhooks.to(path)).toHaveLength(1);
  });

  it('nests sagas, shows the whole tree, and cancels every descendant with the parent', async () => {
    const parent = await submit({ type: 'noop', input: { service: 'geo', children: 3, child: { service: 'export', children: 4 } } });
    const done = await waitForJob<SagaResult>(admin, parent.id, 'succeeded', { what: 'the nested saga to succeed' });
    expect(done.result!.children).toEqual({ total: 3, succeeded: 3, failed: 0, cancelled: 0 });
    const tree = (await admin.get<JobTreeNode>(`/jobs/${parent.id}/tree`)).body;
    expect(tree.children).toHaveLength(3);
    expect(tree.children.map((child) => child.children.length)).toEqual([4, 4, 4]);
    expect(tree.children.flatMap((child) => child.children).every((leaf) => leaf.state === 'succeeded')).toBe(true);

    const long = await submit({
      type: 'noop',
      input: { service: 'geo', children: 2, child: { service: 'geo', children: 2, child: { service: 'geo', sleepMs: 60_000 } } },
    });
    await waitForJob<SagaResult>(admin, long.id, (job) => (job.children?.byState.running ?? 0) === 2, { what: 'the inner sagas to run' });
    expect((await admin.post<Job>(`/jobs/${long.id}/cancel`)).body.state).toBe('cancelled');
    const cancelledTree = (await admin.get<JobTreeNode>(`/jobs/${long.id}/tree`)).body;
    const states = [cancelledTree, ...cancelledTree.children, ...cancelledTree.children.flatMap((child) => child.children)].map((node) => node.state);
    expect(states).toEqual(Array(7).fill('cancelled'));
  });

  it('runs the merge step as a job of its own once every subtask succeeded, and follows up after it', async () => {
    const path = `/merged/${randomUUID()}`;
    const parent = await submit({
      type: 'noop',
      input: { service: 'geo', children: 20, merge: { service: 'export', sleepMs: 300 } },
      followups: { onSuccess: [hook(path)] },
    });
    const merging = await waitForJob<SagaResult>(admin, parent.id, (job) => job.progress.message === 'merging', { what: 'the merge to start' });
    expect(merging.state).toBe('running');
    expect(webhooks.to(path)).toHaveLength(0); // every subtask settled, but not the merge: no followup yet
    const done = await waitForJob<SagaResult>(admin, parent.id, 'succeeded', { what: 'the saga to succeed' });
    expect(done.result).toEqual({ children: { total: 20, succeeded: 20, failed: 0, cancelled: 0 }, errors: [], merge: { sleptMs: 300 } });
    expect(done.children).toMatchObject({ total: 21, byState: { succeeded: 21 } }); // the merge job is listed among them
    await waitFor(() => webhooks.to(path).length > 0, 'the webhook');
    await sleep(QUIET_MS);
    expect(webhooks.to(path)).toHaveLength(1);

    const failing = await submit({ type: 'noop', input: { service: 'geo', children: 3, merge: { service: 'export', fail: 'the archive is full' } } });
    const failed = await waitForJob<SagaResult>(admin, failing.id, 'failed', { what: 'the merge to fail' });
    expect(failed.error).toEqual({ type: 'saga', class: 'MergeFailed', message: 'the merge step failed: the archive is full' });

    const skipped = await submit({ type: 'noop', input: { service: 'geo', children: 3, failChildren: 1, merge: { service: 'export' } } });
    const notMerged = await waitForJob<SagaResult>(admin, skipped.id, 'failed', { what: 'the saga to fail without merging' });
    expect(notMerged.children!.total).toBe(3); // no merge job when a subtask failed
  });

  it('counts subtasks cancelled one by one, and settles the saga when the last is', async () => {
    const parent = await submit({ type: 'noop', input: { service: 'geo', children: 2, child: { service: 'geo', sleepMs: 60_000 } } });
    const running = await waitForJob<SagaResult>(admin, parent.id, (job) => job.children?.byState.running === 2, { what: 'the subtasks to run' });
    for (const child of running.children!.jobs!) expect((await admin.post<Job>(`/jobs/${child.id}/cancel`)).body.state).toBe('cancelled');
    const done = await waitForJob<SagaResult>(admin, parent.id, 'failed', { what: 'the saga to settle' });
    expect(done.error).toMatchObject({ class: 'SubtasksFailed', message: '2 cancelled of 2 subtasks' });
    expect(done.result!.children).toEqual({ total: 2, succeeded: 0, failed: 0, cancelled: 2 });
  });

  it('runs a followup delivered twice at once only once, and again only when its holder is gone', async () => {
    const path = `/hooks/${randomUUID()}`;
    webhooks.answerAfter(path, 1_500);
    const job = await submit({ type: 'noop', input: { service: 'geo' }, followups: { onSuccess: [hook(path)] } });
    await waitFor(() => webhooks.requestsTo(path) === 1, 'the webhook to be called');
    const database = new pg.Client({ connectionString: context.databaseUrls.admin });
    await database.connect();
    const broker = await startTestBroker(context);
    try {
      // the same followup.run again while the first delivery still waits for the webhook's answer: it waits too
      await broker.publishCommand('followup.run', { jobId: job.id, outcome: 'succeeded', index: 0 }, { correlationId: job.id });
      await waitForJob<SagaResult>(admin, job.id, (found) => found.followupRuns?.[0]?.state === 'succeeded', { what: 'the webhook to succeed' });
      await sleep(QUIET_MS);
      expect(webhooks.requestsTo(path)).toBe(1);
      expect(webhooks.to(path)).toHaveLength(1);
      expect((await get(job.id)).followupRuns![0]).toMatchObject({ state: 'succeeded', attempts: 1 });

      // a holder whose claim has lapsed (its gateway died mid-call) is not waited for
      const second = `/hooks/${randomUUID()}`;
      webhooks.answerAfter(second, 1_500);
      const other = await submit({ type: 'noop', input: { service: 'geo' }, followups: { onSuccess: [hook(second)] } });
      await waitFor(() => webhooks.requestsTo(second) === 1, 'the webhook to be called');
      await database.query(`UPDATE jobs.followup_runs SET claimed_until = now() - interval '1 second' WHERE job_id = $1`, [other.id]);
      await broker.publishCommand('followup.run', { jobId: other.id, outcome: 'succeeded', index: 0 }, { correlationId: other.id });
      await waitFor(() => webhooks.requestsTo(second) === 2, 'the second delivery to call the webhook itself');
    } finally {
      await broker.close();
      await database.end();
    }
  });

  it('chains a job with the result passed on as input.previous, and retries a failing webhook with backoff', async () => {
    const path = `/flaky/${randomUUID()}`;
    webhooks.failFirst(path, 2);
    const first = await submit({
      type: 'noop',
      input: { service: 'geo', children: 2 },
      followups: { onSuccess: [{ type: 'job', job: { type: 'noop', input: { service: 'export', sleepMs: 1 } } }, hook(path)] },
    });
    await waitForJob<SagaResult>(admin, first.id, (job) => job.followupRuns?.length === 2 && job.followupRuns.every((run) => run.state === 'succeeded'), {
      what: 'both followups to succeed',
    });
    const runs = (await get(first.id)).followupRuns!;
    expect(runs[1]).toMatchObject({ type: 'webhook', state: 'succeeded', attempts: 3 });
    expect(webhooks.to(path)).toHaveLength(1);
    const chainedId = runs[0].detail!.jobId as string;
    const chained = await waitForJob<SagaResult>(admin, chainedId, 'succeeded', { what: 'the chained job' });
    expect(chained.input).toEqual({ service: 'export', sleepMs: 1, previous: { children: { total: 2, succeeded: 2, failed: 0, cancelled: 0 }, errors: [] } });
  });

  it('refuses a webhook to a private address that is not allow-listed, and records why', async () => {
    const job = await submit({ type: 'noop', input: { service: 'geo' }, followups: { onSuccess: [{ type: 'webhook', url: 'http://10.255.255.1/hook' }] } });
    const done = await waitForJob<SagaResult>(admin, job.id, (found) => found.followupRuns?.[0]?.state === 'failed', { what: 'the webhook to be refused' });
    expect(done.followupRuns![0]).toMatchObject({ type: 'webhook', attempts: 1 });
    expect((done.followupRuns![0] as unknown as { lastError: string }).lastError).toMatch(/refused: 10\.255\.255\.1 .*GEOJOBS_ALLOWED_HOSTS/);
  });

  it('answers 400 for a saga of more than 10,000 subtasks in all', async () => {
    const reply = await admin.post<{ message: string[] }>('/jobs', {
      type: 'noop',
      input: { service: 'geo', children: 200, child: { service: 'geo', children: 51 } },
    });
    expect(reply.status).toBe(400);
    expect(reply.body.message.join()).toMatch(/more than 10000 subtasks/);
    const bulk = await admin.post<{ message: string[] }>(
      '/jobs',
      [6_000, 6_000].map((children) => ({ type: 'noop', input: { service: 'geo', children } })),
    );
    expect(bulk.status).toBe(400);
    expect(bulk.body.message.join()).toMatch(/^\[1\]\.input declares more than 10000 subtasks/);
  });

  it('fans out at run time (job.fanout): runs a merge that asked to run anyway after failures, then onFailure once; a repeated fan-out adds nothing', async () => {
    const path = `/fanout/${randomUUID()}`;
    const parent = await submit({
      type: 'noop',
      input: { service: 'geo', sleepMs: 100, fanout: { children: 20, failChildren: 2, mergeAlways: true } },
      followups: { onFailure: [hook(path)] },
    });
    const done = await waitForJob<SagaResult>(admin, parent.id, 'failed', { what: 'the fanned-out saga to fail' });
    expect(done.result!.children).toEqual({ total: 20, succeeded: 18, failed: 2, cancelled: 0 });
    expect(done.error).toMatchObject({ type: 'saga', class: 'SubtasksFailed', message: '2 failed of 20 subtasks' });
    const children = (await admin.get<Job[]>(`/jobs?parentId=${parent.id}&limit=100`)).body;
    expect(children).toHaveLength(21);
    const merge = children.find((child) => 'saga' in child.input)!;
    expect(merge.state).toBe('succeeded');
    const told = merge.input.saga as { parentId: string; subtasks: number; errors: JobError[] };
    expect(told).toMatchObject({ parentId: parent.id, subtasks: 20 });
    expect(told.errors.map((error) => error.message).sort()).toEqual(['subtask 1 failed', 'subtask 2 failed']);
    await waitFor(() => webhooks.to(path).length > 0, 'the onFailure webhook');

    // a fan-out delivered again (or sent for a job that no longer runs) changes nothing
    const broker = await startTestBroker(context);
    try {
      await broker.publishEvent('job.fanout', { jobId: parent.id, subtasks: [{ type: 'noop', input: { service: 'geo' } }] }, { correlationId: parent.id });
      await sleep(QUIET_MS);
    } finally {
      await broker.close();
    }
    expect((await admin.get<Job[]>(`/jobs?parentId=${parent.id}&limit=100`)).body).toHaveLength(21);
    expect((await get(parent.id)).state).toBe('failed');
    expect(webhooks.to(path)).toHaveLength(1);
  });

  it('runs a merge that asked to run anyway when its saga is cut short: the parent cancelled, or its deadline passed', async () => {
    const succeededMergeOf = async (parentId: string) => {
      const merge = (await admin.get<Job[]>(`/jobs?parentId=${parentId}&limit=100`)).body.find((child) => 'saga' in child.input);
      return merge?.state === 'succeeded' && merge;
    };
    const slow = { service: 'geo', fanout: { children: 3, childSleepMs: 60_000, mergeAlways: true } };

    const cancelled = await submit({ type: 'noop', input: slow });
    await waitForJob<SagaResult>(admin, cancelled.id, (job) => job.children?.total === 3, { what: 'the fan-out' });
    expect((await admin.post(`/jobs/${cancelled.id}/cancel`, {})).status).toBe(200);
    let merge = await waitFor(() => succeededMergeOf(cancelled.id), 'the merge of the cancelled saga to run');
    expect(merge.input.saga).toEqual({
      parentId: cancelled.id,
      subtasks: 3,
      errors: [{ jobId: cancelled.id, type: 'saga', class: 'JobCancelled', message: 'the job was cancelled' }],
    });
    expect((await get(cancelled.id)).state).toBe('cancelled');

    const late = await submit({ type: 'noop', input: { ...slow, fanout: { ...slow.fanout, deadlineSeconds: 1 } } });
    const failed = await waitForJob<SagaResult>(admin, late.id, 'failed', { what: 'the deadline' });
    expect(failed.error!.class).toBe('SagaDeadlineExceeded');
    merge = await waitFor(() => succeededMergeOf(late.id), 'the merge of the late saga to run');
    expect((merge.input.saga as { errors: JobError[] }).errors).toEqual([expect.objectContaining({ class: 'SagaDeadlineExceeded' })]);
    const children = (await admin.get<Job[]>(`/jobs?parentId=${late.id}&limit=100`)).body.filter((child) => !('saga' in child.input));
    expect(children.map((child) => child.state)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect((await get(late.id)).state).toBe('failed'); // the merge's outcome does not change the parent's
  });

  it('opens the saga of a fan-out applied before its job.started, and a late progress of that run does not replace the saga’s', async () => {
    // no analytics-service runs here: the job stays queued, as it is when its job.fanout is applied before its job.started
    const parent = await submit({ type: 'noop', input: { service: 'analytics', sleepMs: 1 } });
    expect(parent.state).toBe('queued');
    const broker = await startTestBroker(context);
    try {
      const subtask = { type: 'noop', input: { service: 'geo', sleepMs: 2_000 } };
      await broker.publishEvent('job.fanout', { jobId: parent.id, subtasks: [subtask, subtask] }, { correlationId: parent.id });
      const opened = await waitForJob<SagaResult>(admin, parent.id, (job) => job.children?.total === 2, { what: 'the saga to open' });
      expect(opened).toMatchObject({ state: 'running', progress: { current: 0, total: 2, message: 'waiting for 2 subtasks' } });
      await broker.publishEvent('job.started', { jobId: parent.id, service: 'analytics' }, { correlationId: parent.id });
      await broker.publishEvent('job.progress', { jobId: parent.id, current: 0, total: 1, message: 'reading the input' }, { correlationId: parent.id });
      await sleep(QUIET_MS / 2);
      expect((await get(parent.id)).progress).toEqual({ current: 0, total: 2, message: 'waiting for 2 subtasks' });
    } finally {
      await broker.close();
    }
    const done = await waitForJob<SagaResult>(admin, parent.id, 'succeeded', { what: 'the saga to succeed' });
    expect(done.result!.children).toEqual({ total: 2, succeeded: 2, failed: 0, cancelled: 0 });
  });

  it('fails a running job whose fan-out declares work that cannot run, saying why', async () => {
    const parent = await submit({ type: 'noop', input: { service: 'geo', sleepMs: 5_000 } });
    await waitForJob<SagaResult>(admin, parent.id, 'running', { what: 'the job to run' });
    const broker = await startTestBroker(context);
    try {
      await broker.publishEvent(
        'job.fanout',
        {
          jobId: parent.id,
          subtasks: [
            { type: 'noop', input: { service: 'geo' } },
            { type: 'no.such.type', input: {} },
            { type: 'noop', input: { service: 'nowhere' } },
          ],
        },
        { correlationId: parent.id },
      );
    } finally {
      await broker.close();
    }
    const failed = await waitForJob<SagaResult>(admin, parent.id, 'failed', { what: 'the job to fail' });
    expect(failed.error!.class).toBe('InvalidFanout');
    expect(failed.error!.message).toContain('subtasks[1].type must be one of: noop');
    expect((await admin.get<Job[]>(`/jobs?parentId=${parent.id}`)).body).toHaveLength(0);
  });

  it('still merges once and follows up once when a worker and the gateway are killed mid-saga (SIGKILL)', async () => {
    const path = `/killed/${randomUUID()}`;
    const victim = await startService('export-service', context);
    const parent = await submit({
      type: 'noop',
      input: { service: 'export', children: 1_000, child: { service: 'export', sleepMs: 20 } },
      followups: { onSuccess: [hook(path)] },
    });
    await waitForJob<SagaResult>(admin, parent.id, (job) => job.progress.current > 50, { what: 'the saga to be under way' });
    await victim.kill(); // its unacked commands go back to the queue, to the other export-service
    await waitForJob<SagaResult>(admin, parent.id, (job) => job.progress.current > 300, { what: 'the saga to go on' });
    await gateway.kill(); // its unapplied events and unsent outbox rows wait for the next gateway
    gateway = await startService('gateway', context, ALLOW_LOOPBACK);
    admin = await Client.admin(gateway);

    const done = await waitForJob<SagaResult>(admin, parent.id, 'succeeded', { what: 'the saga to succeed' });
    expect(done.result!.children).toEqual({ total: 1_000, succeeded: 1_000, failed: 0, cancelled: 0 });
    await waitFor(() => webhooks.to(path).length > 0, 'the webhook');
    await sleep(QUIET_MS);
    expect(webhooks.to(path)).toHaveLength(1);
    expect((await get(parent.id)).followupRuns).toEqual([expect.objectContaining({ state: 'succeeded', attempts: 1 })]);
  });
});
