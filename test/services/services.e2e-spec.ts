import { randomUUID } from 'node:crypto';
import { Broker, commandEnvelope, type Envelope, EXCHANGES, type JobBatchV1, type JobFailedV1, type JobSucceededV1 } from '#shared';
import { waitFor } from '../../libs/testing/src/index.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { startTestBroker, Tap } from '../harness/broker.js';
import { startService, type RunningService, type ServiceName } from '../harness/services.js';

describe('the four services (real processes, RabbitMQ and PostgreSQL)', () => {
  let context: TestContext;
  let broker: Broker;
  let events: Tap;
  const running: RunningService[] = [];

  const start = async (name: ServiceName, env?: Record<string, string>) => {
    const service = await startService(name, context, env);
    running.push(service);
    return service;
  };

  beforeAll(async () => {
    context = await createTestContext();
    broker = await startTestBroker(context);
    events = await Tap.on(context.amqpUrl, EXCHANGES.events, 'job.#');
  });

  afterAll(async () => {
    await Promise.all(running.map((service) => service.stop()));
    await events?.close();
    await broker?.close();
    await context?.dispose();
  });

  const eventsOf = (jobId: string) => events.envelopes<{ jobId: string }>().filter((event) => event.payload.jobId === jobId);

  it('each service answers /health with its broker, database and storage up', async () => {
    const services = await Promise.all((['gateway', 'geo-service', 'export-service', 'analytics-service'] as const).map((name) => start(name)));
    for (const service of services) {
      const response = await fetch(`${service.url}/health`);
      const body = (await response.json()) as { status: string; info: Record<string, { status: string }> };
      expect(response.status).toBe(200);
      expect(body.status).toBe('ok');
      expect(body.info.broker.status).toBe('up');
      if (service.name !== 'analytics-service') expect(body.info.database.status).toBe('up');
      // analytics-service keeps no files
      expect(body.info.storage?.status).toBe(service.name === 'analytics-service' ? undefined : 'up');
    }
  });

  it.each(['geo', 'export', 'analytics'] as const)('%s-service runs a noop job and reports it as events', async (service) => {
    // a quick job: its final event alone, carrying when it started
    const quick = randomUUID();
    const published = Date.now();
    await broker.publishCommand(`${service}.noop`, { jobId: quick, sleepMs: 10 }, { correlationId: quick });
    await waitFor(() => eventsOf(quick).some((event) => event.type === 'job.succeeded'), `${service} noop to succeed`);
    const [succeeded, ...more] = eventsOf(quick);
    expect(more).toEqual([]);
    expect(succeeded).toMatchObject({ type: 'job.succeeded', correlationId: quick, payload: { jobId: quick, result: { sleptMs: 10 } } });
    const { startedAt } = succeeded.payload as unknown as JobSucceededV1;
    expect(Date.parse(startedAt!)).toBeGreaterThanOrEqual(published - 1_000); // clocks of one machine
    expect(Date.parse(startedAt!)).toBeLessThanOrEqual(Date.parse(succeeded.occurredAt));

    // one still running after a moment reports job.started first, naming its service, caused by the same command
    const slow = randomUUID();
    await broker.publishCommand(`${service}.noop`, { jobId: slow, sleepMs: 300 }, { correlationId: slow });
    await waitFor(() => eventsOf(slow).some((event) => event.type === 'job.succeeded'), `${service} slower noop to succeed`);
    const lifecycle = eventsOf(slow).filter((event) => event.type !== 'job.progress');
    expect(lifecycle.map((event) => event.type)).toEqual(['job.started', 'job.succeeded']);
    expect(lifecycle[0]).toMatchObject({ correlationId: slow, payload: { jobId: slow, service } });
    expect(lifecycle[1]).toMatchObject({ causationId: lifecycle[0].causationId, payload: { result: { sleptMs: 300 } } });
  });

  it('logs with the job id as correlation id, over AMQP and over HTTP', async () => {
    // the only analytics-service consuming, so the message is handled by this one
    const quiet = running.filter((service) => service.name === 'analytics-service');
    await Promise.all(quiet.map((service) => service.stop()));
    const analytics = await start('analytics-service', { GEOJOBS_LOG_LEVEL: 'debug' });
    const jobId = randomUUID();
    await broker.publishCommand('analytics.noop', { jobId }, { correlationId: jobId });
    await waitFor(() => analytics.output().includes(`"correlationId":"${jobId}"`), 'a log line carrying the job id');
    const line = analytics
      .output()
      .split('\n')
      .find((text) => text.includes(`"correlationId":"${jobId}"`))!;
    expect(JSON.parse(line)).toMatchObject({ service: 'analytics-service', correlationId: jobId, msg: 'message handled', type: 'analytics.noop' });

    const response = await fetch(`${analytics.url}/health`, { headers: { 'x-correlation-id': jobId } });
    expect(response.headers.get('x-correlation-id')).toBe(jobId);
    await analytics.stop();
  });

  it('reports a failing noop job as job.failed with its message', async () => {
    const jobId = randomUUID();
    await broker.publishCommand('export.noop', { jobId, fail: 'asked to fail' }, { correlationId: jobId });
    const failed = await waitFor(() => eventsOf(jobId).find((event) => event.type === 'job.failed'), 'job.failed');
    expect((failed.payload as unknown as JobFailedV1).error).toEqual({ type: 'noop', class: 'NoopFailure', message: 'asked to fail' });
  });

  it('sends the final events of quick jobs that end together as one job.batch, each event as it would come alone', async () => {
    // analytics-service takes 200 commands at a time: 40 sent at once end in the same moment
    await start('analytics-service');
    const commands = Array.from({ length: 40 }, () => {
      const jobId = randomUUID();
      return commandEnvelope('analytics.noop', { jobId }, { correlationId: jobId });
    });
    await Promise.all(commands.map((command) => broker.publishEnvelope(EXCHANGES.commands, command)));
    const jobIds = new Set(commands.map((command) => command.payload.jobId));
    await waitFor(() => [...jobIds].every((jobId) => eventsOf(jobId).length > 0), 'the 40 noop jobs to report');

    const messages = events.messages.map((message) => JSON.parse(message.content.toString()) as Envelope<Record<string, unknown>>);
    const carrying = messages.filter((message) =>
      (message.type === 'job.batch' ? (message.payload as unknown as JobBatchV1).events : [message]).some((event) =>
        jobIds.has((event.payload as { jobId: string }).jobId),
      ),
    );
    expect(carrying.some((message) => message.type === 'job.batch')).toBe(true);
    expect(carrying.length).toBeLessThan(commands.length);
    for (const command of commands) {
      const { jobId } = command.payload;
      const reported = eventsOf(jobId);
      expect(reported).toHaveLength(1);
      expect(reported[0]).toMatchObject({ type: 'job.succeeded', correlationId: jobId, causationId: command.id, payload: { jobId, result: { sleptMs: 0 } } });
    }
  });

  it('redelivers to another consumer the message of a consumer killed before it acked', async () => {
    const first = running.find((service) => service.name === 'geo-service')!;
    const jobId = randomUUID();
    await broker.publishCommand('geo.noop', { jobId, sleepMs: 2_000 }, { correlationId: jobId });
    await waitFor(() => eventsOf(jobId).some((event) => event.type === 'job.started'), 'the first consumer to start');
    await first.kill();
    running.splice(running.indexOf(first), 1);

    await start('geo-service');
    await waitFor(() => eventsOf(jobId).some((event) => event.type === 'job.succeeded'), 'the job to succeed on the second consumer');
    const types = eventsOf(jobId)
      .map((event) => event.type)
      .filter((type) => type !== 'job.progress');
    expect(types).toEqual(['job.started', 'job.started', 'job.succeeded']);
  });

  it('refuses to start with a bad variable, naming it', async () => {
    await expect(start('geo-service', { GEOJOBS_AMQP_URL: 'http://not-a-broker', GEOJOBS_DELIVERY_LIMIT: 'many' })).rejects.toThrow(
      /exited with 78[\s\S]*GEOJOBS_AMQP_URL \(value hidden\): must be an amqp:\/\/ or amqps:\/\/ URL[\s\S]*GEOJOBS_DELIVERY_LIMIT/,
    );
  });
});
