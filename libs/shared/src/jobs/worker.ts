import type { HandlerContext } from '../broker/consumer.js';
import { commandsRoutedTo, type CommandsRoutedTo } from '../contracts/command-routing.js';
import type { CommandKey } from '../contracts/commands.js';
import type { CommandEnvelope } from '../contracts/envelopes.js';
import type { JobErrorV1, JobFanoutV1 } from '../contracts/job.events.js';
import { QUEUE_BINDINGS, QUEUES, SERVICES, type CommandQueue, type ServiceName } from '../contracts/routing.js';

/** What a job's handler has besides its command: the job's signal, and where its progress goes. */
export interface JobContext extends HandlerContext {
  /** The service running the job (a fan-out's subtasks may name it). */
  readonly service: ServiceName;
  /** Fires when the job is cancelled while it runs; a handler that stops for it may throw, it is not a failure. */
  readonly signal: AbortSignal;
  /** `job.progress`; for a command that carries no job, nothing. */
  progress(current: number, total: number, message: string): Promise<void>;
}

/** What a job's run produced: published as `job.succeeded`'s result. */
export type JobResult = Record<string, unknown>;

/**
 * A job that found, while running, the subtasks it is made of: published as `job.fanout`, which hands the job to the
 * saga coordinator (it ends with its saga; its handler reports nothing more). Made with `fanOut()`.
 */
export class FanOut {
  constructor(readonly declaration: Omit<JobFanoutV1, 'jobId'>) {}
}

export const fanOut = (declaration: Omit<JobFanoutV1, 'jobId'>): FanOut => new FanOut(declaration);

export type JobOutcome = JobResult | FanOut;

/**
 * The job failed, as its handler tells it: published as `job.failed` with this error, and the command acked — a
 * failure of the work (a bad file, a refused delivery), which retrying would not mend. Anything else a handler throws
 * is the broker's: retried with backoff, then dead-lettered (`PermanentError` at once), and `job.failed` is published
 * when the command is given up.
 */
export class JobFailure extends Error {
  override readonly name = 'JobFailure';

  constructor(readonly failure: JobErrorV1) {
    super(failure.message);
  }

  /** A failure of type `type` from whatever was thrown: its class and message. */
  static of(type: string, error: unknown): JobFailure {
    const cause = error instanceof Error ? error : new Error(String(error));
    return new JobFailure({ type, class: cause.name, message: cause.message });
  }
}

export type JobCommandKey = { [K in CommandKey]: CommandEnvelope<K>['payload'] extends { jobId?: string } ? K : never }[CommandKey];

/**
 * A command that is a job, or carries one (`jobId`): skipped if the job was cancelled before it arrived, run with the
 * job's signal, its lifecycle (`job.started`, then `job.succeeded` / `job.fanout` / `job.failed`) published around it.
 * A command of such a key that carries no jobId runs without lifecycle or cancellation, its outcome not reported.
 */
export interface JobHandler<K extends JobCommandKey> {
  job: (command: CommandEnvelope<K>, job: JobContext) => Promise<JobOutcome>;
}

/** A command that is not a job of its own (a followup of a finished job): run as it is, no lifecycle, no cancellation. */
export interface PlainHandler<K extends CommandKey> {
  message: (command: CommandEnvelope<K>, context: HandlerContext) => Promise<void>;
}

export type CommandHandler<K extends CommandKey> = (K extends JobCommandKey ? JobHandler<K> : never) | PlainHandler<K>;

/**
 * A worker: the queue it consumes, and one handler for every command the topology routes to that queue. The compiler
 * derives those keys from the bindings (`CommandsRoutedTo`), so a command added to the contracts without a handler, or a
 * handler for a key the queue never receives, does not compile; `checkWorker` tells the same at start.
 */
export interface WorkerDeclaration<Q extends CommandQueue> {
  queue: Q;
  prefetch: number;
  handlers: { [K in CommandsRoutedTo<Q>]: CommandHandler<K> };
}

export class WorkerDeclarationError extends Error {
  override readonly name = 'WorkerDeclarationError';
}

/** The service whose queue this is (geo_q is geo's), if any: its jobs' `job.started` names it. */
export const serviceOfQueue = (queue: CommandQueue): ServiceName | undefined => SERVICES.find((service) => QUEUES[service] === queue);

/**
 * Refuses a declaration that does not match the topology: a key bound to the queue with no handler (its messages would
 * be dead-lettered as unhandled), a handler for a key the queue never receives (dead code, or a key routed elsewhere),
 * or a job handler on a queue that belongs to no service. Checked at start, so a mismatch stops the service at once.
 */
export function checkWorker(declaration: { queue: CommandQueue; handlers: Record<string, object> }): void {
  const { queue } = declaration;
  const patterns = QUEUE_BINDINGS[queue].patterns.join(', ');
  const routed = new Set<string>(commandsRoutedTo(queue));
  const handled = Object.keys(declaration.handlers);
  const problems: string[] = [];
  const missing = [...routed].filter((key) => !handled.includes(key));
  if (missing.length > 0) problems.push(`no handler for ${missing.join(', ')}, bound to ${queue} by ${patterns}`);
  const stray = handled.filter((key) => !routed.has(key));
  if (stray.length > 0) problems.push(`a handler for ${stray.join(', ')}, which ${queue} never receives (bound by ${patterns})`);
  const jobs = handled.filter((key) => 'job' in declaration.handlers[key]);
  if (jobs.length > 0 && !serviceOfQueue(queue)) problems.push(`job handlers for ${jobs.join(', ')}, but ${queue} belongs to no service`);
  if (problems.length > 0) throw new WorkerDeclarationError(`the worker of ${queue} does not match the topology: ${problems.join('; ')}`);
}
