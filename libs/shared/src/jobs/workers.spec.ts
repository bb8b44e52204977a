import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { PermanentError, type HandlerContext, type HandlerMap } from '../broker/consumer.js';
import type { CommandKey, Commands } from '../contracts/commands.js';
import type { Envelope, MessageOrigin } from '../contracts/envelope.js';
import { commandEnvelope, eventEnvelope } from '../contracts/envelopes.js';
import type { EventKey, Events } from '../contracts/events.js';
import type { BatchedEventKey } from '../contracts/job.events.js';
import { JobCancellations } from './job-cancellations.js';
import { runNoop } from './noop.runner.js';
import { fanOut, JobFailure, type WorkerDeclaration } from './worker.js';
import { STARTED_REPORT_DELAY_MS, Workers, type WorkerBroker } from './workers.js';

/** Stands in for the broker's two calls a worker makes: records the handlers it is given and the events it publishes. */
class RecordingBroker implements WorkerBroker {
  handlers: HandlerMap<Commands> | undefined;
  queue: string | undefined;
  readonly events: Envelope<unknown>[] = [];
  /** What happened, in order: `publish <type>` when an event is handed to the broker, `confirm <type>` when confirmed. */
  readonly log: string[] = [];
  /** How long the broker takes to confirm an event of a type (none: at once). */
  readonly confirmDelayMs: Partial<Record<EventKey, number>> = {};

  async consumeCommands(queue: string, _prefetch: number, handlers: HandlerMap<Commands>): Promise<void> {
    this.queue = queue;
    this.handlers = handlers;
  }

  async publishJobEvent<K extends BatchedEventKey>(type: K, payload: Events[K], origin: MessageOrigin): Promise<void> {
    this.events.push(eventEnvelope(type, payload, origin));
    this.log.push(`publish ${type}`);
    const delay = this.confirmDelayMs[type];
    if (delay) await sleep(delay);
    this.log.push(`confirm ${type}`);
  }

  /** Hands a command to the consumed handler as the consumer would; resolves when the consumer would ack it. */
  deliver<K extends CommandKey>(command: Envelope<Commands[K], K>, context: Partial<HandlerContext> = {}): Promise<void> {
    const handler = this.handlers?.[command.type];
    if (!handler) throw new Error(`nothing consumes ${command.type}`);
    return handler(command, { attempt: 1, redelivered: false, lastAttempt: false, ...context });
  }

  typesOf(): string[] {
    return this.events.map((event) => event.type);
  }
}

const silent = pino({ enabled: false });
const noop = (jobId = randomUUID()) => commandEnvelope('geo.noop', { jobId }, { correlationId: jobId });

describe('worker declarations', () => {
  let broker: RecordingBroker;
  let cancellations: JobCancellations;
  let workers: Workers;

  beforeEach(() => {
    broker = new RecordingBroker();
    cancellations = new JobCancellations({ subscribe: async () => undefined });
    workers = new Workers(broker, cancellations, silent);
  });

  /** geo_q's declaration with `geo.noop` as given and the other three keys succeeding at once. */
  const geoWorker = (noopHandler: WorkerDeclaration<'geo_q'>['handlers']['geo.noop']): WorkerDeclaration<'geo_q'> => ({
    queue: 'geo_q',
    prefetch: 1,
    handlers: {
      'geo.noop': noopHandler,
      'geo.preview': { job: async () => ({}) },
      'geo.preview.merge': { job: async () => ({}) },
      'geo.layer.delete': { job: async () => ({}) },
    },
  });

  describe('checked at start against the topology', () => {
    it('refuses a key bound to the queue with no handler, naming it and the binding, and consumes nothing', async () => {
      const { 'geo.layer.delete': _left, ...handlers } = geoWorker({ job: async () => ({}) }).handlers;
      const incomplete = { queue: 'geo_q', prefetch: 1, handlers } as unknown as WorkerDeclaration<'geo_q'>;
      await expect(workers.start(incomplete)).rejects.toThrow(
        'the worker of geo_q does not match the topology: no handler for geo.layer.delete, bound to geo_q by geo.#',
      );
      expect(broker.handlers).toBeUndefined();
    });

    it('refuses a handler for a key the queue never receives', async () => {
      const declaration = geoWorker({ job: async () => ({}) });
      const stray = { ...declaration, handlers: { ...declaration.handlers, 'export.noop': { job: async () => ({}) } } };
      await expect(workers.start(stray)).rejects.toThrow('a handler for export.noop, which geo_q never receives (bound by geo.#)');
      expect(broker.handlers).toBeUndefined();
    });

    it('refuses job handlers on a queue that belongs to no service', async () => {
      const declaration = {
        queue: 'followup_q',
        prefetch: 1,
        handlers: { 'followup.run': { job: async () => ({}) }, 'followup.ckan-callback': { message: async () => undefined } },
      } as unknown as WorkerDeclaration<'followup_q'>;
      await expect(workers.start(declaration)).rejects.toThrow('job handlers for followup.run, but followup_q belongs to no service');
    });

    it('consumes the queue of a declaration that handles every key routed to it', async () => {
      await workers.start(geoWorker({ job: async () => ({}) }));
      expect(broker.queue).toBe('geo_q');
      expect(Object.keys(broker.handlers ?? {}).sort()).toEqual(['geo.layer.delete', 'geo.noop', 'geo.preview', 'geo.preview.merge']);
    });

    it('refuses a second worker of the same queue in one process', async () => {
      await workers.start(geoWorker({ job: async () => ({}) }));
      await expect(workers.start(geoWorker({ job: async () => ({}) }))).rejects.toThrow('geo_q has a worker in this process already');
    });

    it('does not compile without a handler for every routed key, or with one for a key not routed there', () => {
      const handler = { job: async () => ({}) };
      const missing: WorkerDeclaration<'geo_q'> = {
        queue: 'geo_q',
        prefetch: 1,
        // @ts-expect-error geo.layer.delete is routed to geo_q and has no handler
        handlers: { 'geo.noop': handler, 'geo.preview': handler, 'geo.preview.merge': handler },
      };
      const stray: WorkerDeclaration<'export_q'> = {
        queue: 'export_q',
        prefetch: 1,
        // @ts-expect-error geo.noop is not routed to export_q
        handlers: { 'export.noop': handler, 'geo.noop': handler },
      };
      const followup: WorkerDeclaration<'followup_q'> = {
        queue: 'followup_q',
        prefetch: 1,
        handlers: {
          'followup.run': { message: async () => undefined },
          // @ts-expect-error a handler must say what it is: a job, or a plain message
          'followup.ckan-callback': async () => undefined,
        },
      };
      expect([missing, stray, followup]).toHaveLength(3);
    });
  });

  describe('lifecycle', () => {
    it('publishes job.started, the progress, then job.succeeded with the result, each caused by the command', async () => {
      await workers.start(
        geoWorker({
          job: async (_command, job) => {
            await job.progress(1, 2, 'half way');
            return { answer: 42 };
          },
        }),
      );
      const command = noop();
      await broker.deliver(command);

      expect(broker.typesOf()).toEqual(['job.started', 'job.progress', 'job.succeeded']);
      expect(broker.events.map((event) => event.payload)).toEqual([
        { jobId: command.payload.jobId, service: 'geo' },
        { jobId: command.payload.jobId, current: 1, total: 2, message: 'half way' },
        { jobId: command.payload.jobId, result: { answer: 42 }, startedAt: expect.any(String) },
      ]);
      for (const event of broker.events) {
        expect(event).toMatchObject({ correlationId: command.correlationId, causationId: command.id });
        expect(event.id).not.toBe(command.id);
      }
    });

    it('publishes job.failed with the error a handler fails the job with, and acks the command', async () => {
      await workers.start(geoWorker({ job: ({ payload }, job) => runNoop({ ...payload, fail: 'the file is empty' }, job) }));
      const command = noop();
      await expect(broker.deliver(command)).resolves.toBeUndefined();

      expect(broker.typesOf()).toEqual(['job.failed']);
      expect(broker.events[0]).toMatchObject({
        causationId: command.id,
        payload: { jobId: command.payload.jobId, error: { type: 'noop', class: 'NoopFailure', message: 'the file is empty' }, startedAt: expect.any(String) },
      });
    });

    it('publishes job.fanout, and nothing after it, for a handler that fans out', async () => {
      await workers.start(geoWorker({ job: async () => fanOut({ subtasks: [{ type: 'noop', input: { service: 'geo' } }] }) }));
      const command = noop();
      await broker.deliver(command);

      expect(broker.typesOf()).toEqual(['job.started', 'job.fanout']);
      expect(broker.events[1]).toMatchObject({ causationId: command.id, payload: { jobId: command.payload.jobId, subtasks: [{ type: 'noop' }] } });
    });

    it('reports a failure the broker retries only as the job started, and the one it gives up as failed', async () => {
      let thrown: Error = new Error('the database is restarting');
      await workers.start(
        geoWorker({
          job: async () => {
            throw thrown;
          },
        }),
      );
      const command = noop();
      // the job shows as running while the broker waits to retry it
      await expect(broker.deliver(command, { attempt: 1 })).rejects.toThrow('the database is restarting');
      expect(broker.typesOf()).toEqual(['job.started']);

      await expect(broker.deliver(command, { attempt: 4, lastAttempt: true })).rejects.toThrow('the database is restarting');
      expect(broker.typesOf()).toEqual(['job.started', 'job.failed']);
      expect(broker.events[1]).toMatchObject({
        causationId: command.id,
        payload: { error: { type: 'internal', class: 'Error', message: 'the database is restarting' } },
      });

      thrown = new PermanentError('the source is gone for good');
      await expect(broker.deliver(noop(), { attempt: 1 })).rejects.toBeInstanceOf(PermanentError);
      expect(broker.events.at(-1)).toMatchObject({
        type: 'job.failed',
        payload: { error: { class: 'PermanentError', message: 'the source is gone for good' } },
      });
    });
  });

  describe('job.started deferred', () => {
    it('reports a job that ends sooner than the delay with its final event alone, carrying when it started', async () => {
      await workers.start(geoWorker({ job: async () => ({ quick: true }) }));
      const before = Date.now();
      const command = noop();
      await broker.deliver(command);
      await sleep(STARTED_REPORT_DELAY_MS * 2); // nothing is sent late either

      expect(broker.typesOf()).toEqual(['job.succeeded']);
      const [succeeded] = broker.events as Envelope<{ startedAt: string }>[];
      expect(succeeded.payload).toEqual({ jobId: command.payload.jobId, result: { quick: true }, startedAt: expect.any(String) });
      const startedAt = Date.parse(succeeded.payload.startedAt);
      expect(startedAt).toBeGreaterThanOrEqual(before);
      expect(startedAt).toBeLessThanOrEqual(Date.parse(succeeded.occurredAt));
    });

    it('reports job.started while a job still runs after the delay, without waiting for it to end', async () => {
      let seenWhileRunning: string[] = [];
      await workers.start(
        geoWorker({
          job: async () => {
            await sleep(STARTED_REPORT_DELAY_MS * 3);
            seenWhileRunning = broker.typesOf();
            return {};
          },
        }),
      );
      await broker.deliver(noop());

      expect(seenWhileRunning).toEqual(['job.started']);
      expect(broker.typesOf()).toEqual(['job.started', 'job.succeeded']);
    });

    it('sends the final event only once the broker confirmed a job.started sent before it', async () => {
      broker.confirmDelayMs['job.started'] = STARTED_REPORT_DELAY_MS * 2;
      await workers.start(
        geoWorker({
          job: async () => {
            await sleep(STARTED_REPORT_DELAY_MS * 1.5); // past the delay: job.started is sent, not yet confirmed
            return {};
          },
        }),
      );
      await broker.deliver(noop());

      expect(broker.log).toEqual(['publish job.started', 'confirm job.started', 'publish job.succeeded', 'confirm job.succeeded']);
    });

    it('reports job.started before a quick job’s first progress and before its fan-out', async () => {
      await workers.start(
        geoWorker({
          job: async (command, job) => {
            if ('fanout' in command.payload) return fanOut({ subtasks: [{ type: 'noop', input: { service: 'geo' } }] });
            await job.progress(1, 1, 'done');
            return {};
          },
        }),
      );
      await broker.deliver(noop());
      expect(broker.typesOf()).toEqual(['job.started', 'job.progress', 'job.succeeded']);

      broker.events.length = 0;
      const jobId = randomUUID();
      await broker.deliver(commandEnvelope('geo.noop', { jobId, fanout: { children: 1 } }, { correlationId: jobId }));
      expect(broker.typesOf()).toEqual(['job.started', 'job.fanout']);
    });
  });

  describe('cancellation', () => {
    it('skips the command of a job cancelled before it arrived: no handler, no event', async () => {
      let runs = 0;
      await workers.start(
        geoWorker({
          job: async () => {
            runs += 1;
            return {};
          },
        }),
      );
      const command = noop();
      cancellations.cancel(command.payload.jobId);
      await expect(broker.deliver(command)).resolves.toBeUndefined();

      expect(runs).toBe(0);
      expect(broker.events).toHaveLength(0);
    });

    /** Delivers a noop that runs for a minute, once it runs: its command and the delivery's promise. */
    const deliverLongJob = async () => {
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      await workers.start(geoWorker({ job: ({ payload }, job) => (started(), runNoop({ ...payload, sleepMs: 60_000 }, job)) }));
      const command = noop();
      const delivered = broker.deliver(command);
      await running;
      return { command, delivered };
    };

    it('aborts the signal of a job cancelled while it runs, and reports nothing more', async () => {
      const { command, delivered } = await deliverLongJob();
      await sleep(STARTED_REPORT_DELAY_MS * 2);
      cancellations.cancel(command.payload.jobId);

      await expect(delivered).resolves.toBeUndefined();
      expect(broker.typesOf()).toEqual(['job.started']);
    });

    it('reports nothing at all for a job cancelled before it would have reported job.started', async () => {
      const { command, delivered } = await deliverLongJob();
      cancellations.cancel(command.payload.jobId);

      await expect(delivered).resolves.toBeUndefined();
      await sleep(STARTED_REPORT_DELAY_MS * 2); // the deferred job.started is dropped with the run, not sent late
      expect(broker.events).toHaveLength(0);
    });
  });

  describe('commands that are not jobs', () => {
    it('runs a job handler for a command of no job without lifecycle, and acks it when it fails as a job would', async () => {
      const seen: string[] = [];
      await workers.start({
        queue: 'analytics_q',
        prefetch: 1,
        handlers: {
          'analytics.noop': { job: async () => ({}) },
          'analytics.track': {
            job: async (command) => {
              seen.push(command.payload.events[0].event);
              throw new JobFailure({ type: 'delivery', class: 'AnalyticsEventsRefused', message: 'refused' });
            },
          },
        },
      });
      const events = [
        { insertId: randomUUID(), event: 'download', distinctId: 'someone', time: Date.now(), properties: {}, destinations: ['mixpanel' as const] },
      ];
      await expect(broker.deliver(commandEnvelope('analytics.track', { events }, { correlationId: 'portal' }))).resolves.toBeUndefined();

      expect(seen).toEqual(['download']);
      expect(broker.events).toHaveLength(0);
    });

    it('runs a plain handler as it is: no lifecycle, and what it throws goes to the broker', async () => {
      const runs: string[] = [];
      await workers.start({
        queue: 'followup_q',
        prefetch: 1,
        handlers: {
          'followup.run': {
            message: async ({ payload }) => {
              runs.push(payload.jobId);
            },
          },
          'followup.ckan-callback': {
            message: async () => {
              throw new PermanentError('the portal refused the callback');
            },
          },
        },
      });
      const jobId = randomUUID();
      await broker.deliver(commandEnvelope('followup.run', { jobId, outcome: 'succeeded', index: 0 }, { correlationId: jobId }));
      await expect(broker.deliver(commandEnvelope('followup.ckan-callback', { jobId }, { correlationId: jobId }))).rejects.toThrow('the portal refused');

      expect(runs).toEqual([jobId]);
      expect(broker.events).toHaveLength(0);
    });
  });
});
