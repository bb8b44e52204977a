import { EXCHANGES, type Envelope } from '#shared';
import { waitFor } from '../../libs/testing/src/index.js';
import { Tap } from '../harness/broker.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { Client } from '../harness/http.js';
import { submitJob, waitForJob, type Job } from '../harness/jobs.js';
import { startService, type RunningService } from '../harness/services.js';

type Payload = { jobId: string };

/**
 * The envelopes the gateway writes name their cause: the id of the message that caused them (`causationId`), or
 * null for a request from outside — never the correlation id (the job).
 */
describe('causation of the messages the gateway writes (real gateway, geo-service, RabbitMQ, PostgreSQL)', () => {
  let context: TestContext;
  let gateway: RunningService;
  let geo: RunningService;
  let admin: Client;
  let commands: Tap;
  let events: Tap;

  beforeAll(async () => {
    context = await createTestContext();
    commands = await Tap.on(context.amqpUrl, EXCHANGES.commands, '#');
    events = await Tap.on(context.amqpUrl, EXCHANGES.events, 'job.#');
    gateway = await startService('gateway', context);
    geo = await startService('geo-service', context);
    admin = await Client.admin(gateway);
  });

  afterAll(async () => {
    await Promise.all([gateway, geo].map((service) => service?.stop()));
    await commands?.close();
    await events?.close();
    await context?.dispose();
  });

  const get = async (id: string) => (await admin.get<Job>(`/jobs/${id}`)).body;
  const commandOf = (jobId: string, type?: string) =>
    waitFor(() => commands.envelopes<Payload>().find((e) => e.payload.jobId === jobId && (!type || e.type === type)), `a ${type ?? 'command'} of ${jobId}`);
  const eventOf = (jobId: string, type: string) =>
    waitFor(() => events.envelopes<Payload>().find((e) => e.payload.jobId === jobId && e.type === type), `${type} of ${jobId}`);

  it('a saga: subtasks from the request have no cause; the merge, the followup and the chained job each name the message before', async () => {
    const parent = await submitJob(admin, {
      type: 'noop',
      input: { service: 'geo', children: 2, merge: { service: 'geo' } },
      followups: { onSuccess: [{ type: 'job', job: { type: 'noop', input: { service: 'geo' } } }] },
    });
    const done = await waitForJob(admin, parent.id, (job) => job.state === 'succeeded' && job.followupRuns?.[0]?.state === 'succeeded', {
      what: 'the saga and its followup to succeed',
      timeoutMs: 60_000,
    });

    const children = await Promise.all(done.children!.jobs!.map((child) => get(child.id)));
    const merge = children.find((child) => 'saga' in child.input)!;
    const subtasks = children.filter((child) => child !== merge);
    expect(subtasks).toHaveLength(2);
    for (const subtask of subtasks) {
      const command = await commandOf(subtask.id, 'geo.noop');
      expect(command.correlationId).toBe(subtask.id);
      expect(command.causationId).toBeNull(); // written for the HTTP request: no message caused it
    }

    // the merge starts when the last subtask's success is applied: that event caused it
    const subtaskSuccesses = await Promise.all(subtasks.map((subtask) => eventOf(subtask.id, 'job.succeeded')));
    const mergeCommand = await commandOf(merge.id, 'geo.noop');
    expect(subtaskSuccesses.map((event) => event.id)).toContain(mergeCommand.causationId);

    // the parent succeeds when its merge job's success is applied: that event caused its followup
    const mergeSucceeded = await eventOf(merge.id, 'job.succeeded');
    const followup = await commandOf(parent.id, 'followup.run');
    expect(followup.causationId).toBe(mergeSucceeded.id);
    expect(followup.correlationId).toBe(parent.id);

    // the chained job was submitted by the followup: its command names the followup command
    const chainedId = done.followupRuns![0].detail!.jobId as string;
    const chained: Envelope<Payload> = await commandOf(chainedId, 'geo.noop');
    expect(chained.causationId).toBe(followup.id);

    const all = [...commands.envelopes(), ...events.envelopes()].filter((e) => e.causationId !== null);
    expect(all.filter((e) => e.causationId === e.correlationId)).toEqual([]);
  });

  it('a cancel by a caller has no causing message: job.cancelled of the job and of its subtasks say so', async () => {
    const parent = await submitJob(admin, { type: 'noop', input: { service: 'geo', children: 2, child: { service: 'geo', sleepMs: 60_000 } } });
    const cancelled = await admin.post<Job>(`/jobs/${parent.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe('cancelled');
    const event = await eventOf(parent.id, 'job.cancelled');
    expect(event.causationId).toBeNull();
    for (const child of cancelled.body.children!.jobs!) expect((await eventOf(child.id, 'job.cancelled')).causationId).toBeNull();
  });
});
