import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { Broker, type Envelope, type JobBatchV1, LOGGER, QUEUES, unbatchJobEvents } from '#shared';
import { JobEventsApplier } from './job-events.applier.js';

/** The gateway's half of saga_q: every service's lifecycle events, applied to the jobs table. */
@Injectable()
export class JobEventsConsumer implements OnModuleInit {
  constructor(
    @Inject(Broker) private readonly broker: Broker,
    @Inject(JobEventsApplier) private readonly applier: JobEventsApplier,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.broker.consumeEvents(QUEUES.saga, 1_000, {
      'job.started': (event) => this.applier.apply(event),
      'job.progress': (event) => this.applier.apply(event),
      'job.fanout': (event) => this.applier.apply(event),
      'job.succeeded': (event) => this.applier.apply(event),
      'job.failed': (event) => this.applier.apply(event),
      'job.batch': (batch) => this.applyBatch(batch),
      'job.cancelled': async () => undefined, // the gateway cancelled it itself
    });
  }

  /**
   * Each event of the batch, as if it had come alone: the well-formed ones applied (the batch is acked once all are
   * committed, and a redelivered batch's events are in the inbox already), each malformed one dead-lettered by itself,
   * in a batch of one, with the reason.
   */
  private async applyBatch(batch: Envelope<JobBatchV1, 'job.batch'>): Promise<void> {
    const { events, malformed } = unbatchJobEvents(batch.payload);
    await Promise.all([
      ...events.map((event) => this.applier.apply(event)),
      ...malformed.map(async ({ item, error }) => {
        this.logger.warn({ batch: batch.id, error: error.message }, 'dead-lettered a malformed event of a job.batch');
        const alone = { ...batch, id: randomUUID(), payload: { events: [item] } };
        await this.broker.publishDeadLetter(QUEUES.saga, alone, { reason: 'malformed', error: error.message, attempts: 0 });
      }),
    ]);
  }
}
