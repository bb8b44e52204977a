import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Broker } from '../broker/broker.js';

/** How long a cancellation is remembered: long enough for a command queued behind others to arrive. */
const REMEMBER_MS = 24 * 3_600_000;

/**
 * What a service knows of cancelled jobs, from the gateway's `job.cancelled` events: a command of a cancelled
 * job is skipped when it arrives, and a running job's AbortSignal fires. Each process hears every
 * cancellation through its own subscription; one published while the process was down is not heard, so its
 * command may still run — the gateway keeps the job cancelled and ignores what it reports.
 */
@Injectable()
export class JobCancellations implements OnModuleInit {
  private readonly cancelled = new Map<string, number>();
  private readonly running = new Map<string, AbortController>();

  constructor(@Inject(Broker) private readonly broker: Pick<Broker, 'subscribe'>) {}

  async onModuleInit(): Promise<void> {
    await this.broker.subscribe('job.cancelled', {
      'job.cancelled': async ({ payload }) => this.cancel(payload.jobId),
    });
  }

  private isCancelled(jobId: string): boolean {
    return this.cancelled.has(jobId);
  }

  /** Runs a job's work with a signal that fires if the job is cancelled meanwhile; skips it if it already was. */
  async run(jobId: string, work: (signal: AbortSignal) => Promise<void>): Promise<void> {
    if (this.isCancelled(jobId)) return;
    const controller = new AbortController();
    this.running.set(jobId, controller);
    try {
      await work(controller.signal);
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    } finally {
      this.running.delete(jobId);
    }
  }

  /** What a `job.cancelled` event tells: skip the job's commands from now on, and abort it if it runs. */
  cancel(jobId: string): void {
    const now = Date.now();
    this.cancelled.set(jobId, now + REMEMBER_MS);
    this.running.get(jobId)?.abort(new Error(`job ${jobId} was cancelled`));
    for (const [id, until] of this.cancelled) {
      if (until > now) break; // oldest first: the rest are newer
      this.cancelled.delete(id);
    }
  }
}
