import type { Envelope } from '../contracts/envelope.js';
import type { JobErrorV1, JobFanoutV1 } from '../contracts/job.events.js';
import type { ServiceName } from '../contracts/routing.js';
import type { Broker } from '../broker/broker.js';

/** How a service tells everyone what became of a job it runs: lifecycle events caused by the command. */
export class JobReporter {
  constructor(
    private readonly broker: Broker,
    readonly service: ServiceName,
  ) {}

  started(command: Envelope<{ jobId: string }>): Promise<void> {
    return this.broker.publishEvent('job.started', { jobId: command.payload.jobId, service: this.service }, origin(command));
  }

  progress(command: Envelope<{ jobId: string }>, current: number, total: number, message: string): Promise<void> {
    return this.broker.publishEvent('job.progress', { jobId: command.payload.jobId, current, total, message }, origin(command));
  }

  succeeded(command: Envelope<{ jobId: string }>, result: Record<string, unknown>): Promise<void> {
    return this.broker.publishEvent('job.succeeded', { jobId: command.payload.jobId, result }, origin(command));
  }

  /** Hands the job over to the saga coordinator: these subtasks, then the merge; the job ends with them. */
  fanout(command: Envelope<{ jobId: string }>, fanout: Omit<JobFanoutV1, 'jobId'>): Promise<void> {
    return this.broker.publishEvent('job.fanout', { jobId: command.payload.jobId, ...fanout }, origin(command));
  }

  failed(command: Envelope<{ jobId: string }>, error: JobErrorV1): Promise<void> {
    return this.broker.publishEvent('job.failed', { jobId: command.payload.jobId, error }, origin(command));
  }
}

const origin = (command: Envelope<unknown>) => ({ correlationId: command.correlationId, causationId: command.id });
