import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import { PermanentError, type HandlerContext } from '../broker/consumer.js';
import type { Envelope } from '../contracts/envelope.js';
import { causedBy } from '../contracts/envelopes.js';
import type { JobErrorV1 } from '../contracts/job.events.js';
import type { CommandQueue, ServiceName } from '../contracts/routing.js';
import type { JobCancellations } from './job-cancellations.js';
import { checkWorker, FanOut, JobFailure, serviceOfQueue, WorkerDeclarationError, type JobContext, type JobOutcome, type WorkerDeclaration } from './worker.js';

/** What a worker needs of the broker: a queue to consume and its jobs' lifecycle events to publish. */
export type WorkerBroker = Pick<Broker, 'consumeCommands' | 'publishJobEvent'>;

type JobCommand = Envelope<{ jobId?: string }>;
type RunJob = (command: JobCommand, job: JobContext) => Promise<JobOutcome>;
type RunPlain = (command: Envelope<unknown>, context: HandlerContext) => Promise<void>;

/**
 * How long a job runs before its service reports `job.started`. A job that ends sooner reports only its final event,
 * which carries `startedAt`: one message and one row version of the job fewer, for most jobs of a portal (a callback,
 * a small conversion, every no-op). A job that reports progress or fans out first reports `job.started` then.
 */
export const STARTED_REPORT_DELAY_MS = 100;

/**
 * A job's `job.started`, sent once and only if needed: when the job is still running after STARTED_REPORT_DELAY_MS,
 * or before its first progress or fan-out (`now`). Its final event waits for a `job.started` already sent (`settled`),
 * so the two leave in order.
 */
class DeferredStart {
  readonly startedAt = new Date().toISOString();
  private sent: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly publish: () => Promise<void>) {
    this.timer = setTimeout(() => {
      // a failure is seen by whoever waits for it next (`settled`, `now`); a run cancelled meanwhile waits for nothing
      this.now().catch(() => undefined);
    }, STARTED_REPORT_DELAY_MS);
  }

  /** Sends `job.started` unless sent already; resolves once the broker confirmed it. */
  now(): Promise<void> {
    clearTimeout(this.timer);
    return (this.sent ??= this.publish());
  }

  /** The job ends: `job.started` will not be sent now; resolves once one already sent is confirmed. */
  async settled(): Promise<void> {
    clearTimeout(this.timer);
    await this.sent;
  }

  /** The run was dropped (cancelled): nothing more to report. */
  abandon(): void {
    clearTimeout(this.timer);
  }
}

/** A signal for work that belongs to no job: nothing can cancel it. */
const NEVER = new AbortController().signal;

/**
 * Runs worker declarations: checks each against the topology, then consumes its queue, owning for every job what no
 * handler should write itself — skipping a cancelled job's command, the job's AbortSignal, and its lifecycle events,
 * each caused by the command (`causationId` = the command's id).
 */
export class Workers {
  /** Queues this process has a worker for: a second declaration of one would split its commands between two. */
  private readonly declared = new Set<CommandQueue>();

  constructor(
    private readonly broker: WorkerBroker,
    private readonly cancellations: JobCancellations,
    private readonly logger: Logger,
  ) {}

  async start<Q extends CommandQueue>(declaration: WorkerDeclaration<Q>): Promise<void> {
    const handlers = declaration.handlers as Record<string, { job: RunJob } | { message: RunPlain }>;
    checkWorker({ queue: declaration.queue, handlers });
    if (this.declared.has(declaration.queue))
      throw new WorkerDeclarationError(`${declaration.queue} has a worker in this process already: declare each queue's handlers once`);
    this.declared.add(declaration.queue);
    const service = serviceOfQueue(declaration.queue);
    const consumed: Record<string, RunPlain> = {};
    for (const [key, handler] of Object.entries(handlers)) {
      // checkWorker refused job handlers on a queue of no service
      consumed[key] = 'job' in handler ? this.job(service!, handler.job) : handler.message;
    }
    await this.broker.consumeCommands(declaration.queue, declaration.prefetch, consumed);
  }

  private job(service: ServiceName, run: RunJob): RunPlain {
    return async (message, context) => {
      const command = message as JobCommand;
      const { jobId } = command.payload;
      if (jobId === undefined) return this.untracked(service, run, command, context);
      const origin = causedBy(command);
      await this.cancellations.run(jobId, async (signal) => {
        const started = new DeferredStart(() => this.broker.publishJobEvent('job.started', { jobId, service }, origin));
        const { startedAt } = started;
        const failed = async (error: JobErrorV1) => {
          await started.settled();
          await this.broker.publishJobEvent('job.failed', { jobId, error, startedAt }, origin);
        };
        const progress = async (current: number, total: number, text: string) => {
          await started.now();
          await this.broker.publishJobEvent('job.progress', { jobId, current, total, message: text }, origin);
        };
        let outcome: JobOutcome;
        try {
          outcome = await run(command, { ...context, service, signal, progress });
        } catch (error) {
          if (signal.aborted) {
            started.abandon();
            throw error; // cancelled: the gateway already ended the job, and the run is dropped
          }
          if (error instanceof JobFailure) return failed(error.failure);
          // the broker gives the command up (dead-letters it) rather than retrying: the job ends with the error
          if (error instanceof PermanentError || context.lastAttempt) await this.reportGivenUp(failed, error);
          else await this.reportRetried(started);
          throw error;
        }
        if (outcome instanceof FanOut) {
          await started.now();
          await this.broker.publishJobEvent('job.fanout', { jobId, ...outcome.declaration }, origin);
        } else {
          await started.settled();
          await this.broker.publishJobEvent('job.succeeded', { jobId, result: outcome, startedAt }, origin);
        }
      });
    };
  }

  /** An attempt the broker will retry has run: the job shows as running while it waits for the next one. */
  private async reportRetried(started: DeferredStart): Promise<void> {
    try {
      await started.now();
    } catch (reportError) {
      // the command is retried all the same, and the retry reports it
      this.logger.warn({ err: reportError }, 'could not report a retried job as started');
    }
  }

  /** A command of a job's key that carries no job (an `analytics.track` of no job): its work, and nothing reported. */
  private async untracked(service: ServiceName, run: RunJob, command: JobCommand, context: HandlerContext): Promise<void> {
    try {
      await run(command, { ...context, service, signal: NEVER, progress: async () => undefined });
    } catch (error) {
      if (!(error instanceof JobFailure)) throw error;
      this.logger.warn({ type: command.type, error: error.failure }, 'a command of no job failed');
    }
  }

  private async reportGivenUp(failed: (error: JobErrorV1) => Promise<void>, error: unknown): Promise<void> {
    const cause = error instanceof Error ? error : new Error(String(error));
    try {
      await failed({ type: 'internal', class: cause.name, message: cause.message });
    } catch (reportError) {
      // the command is dead-lettered all the same, with its own error: that is what its reader needs
      this.logger.error({ err: reportError }, 'could not report a job given up as failed');
    }
  }
}
