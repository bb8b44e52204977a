import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Broker, QUEUES } from '#shared';
import { JobEventsApplier } from './job-events.applier.js';

/** The gateway's half of saga_q: every service's lifecycle events, applied to the jobs table. */
@Injectable()
export class JobEventsConsumer implements OnModuleInit {
  constructor(
    @Inject(Broker) private readonly broker: Broker,
    @Inject(JobEventsApplier) private readonly applier: JobEventsApplier,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.broker.consumeEvents(QUEUES.saga, 1_000, {
      'job.started': (event) => this.applier.apply(event),
      'job.progress': (event) => this.applier.apply(event),
      'job.fanout': (event) => this.applier.apply(event),
      'job.succeeded': (event) => this.applier.apply(event),
      'job.failed': (event) => this.applier.apply(event),
      'job.cancelled': async () => undefined, // the gateway cancelled it itself
    });
  }
}
