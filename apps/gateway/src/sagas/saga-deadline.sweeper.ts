import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER, PeriodicTask } from '#shared';
import { OutboxRelay } from '../outbox/outbox.relay.js';
import { SagaCoordinator } from './saga.coordinator.js';
import { SagasRepository } from './sagas.repository.js';

const SWEEP_EVERY_MS = 500;
const BATCH = 100;

/**
 * Fails the sagas whose subtasks did not all report by the deadline: the parent fails (its onFailure
 * followups run) and what is still out below it is cancelled. Overdue sagas are claimed with SKIP LOCKED,
 * so any number of gateways may sweep at once.
 */
@Injectable()
export class SagaDeadlineSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly task: PeriodicTask;

  constructor(
    @Inject(SagasRepository) private readonly sagas: SagasRepository,
    @Inject(SagaCoordinator) private readonly coordinator: SagaCoordinator,
    @Inject(OutboxRelay) private readonly outbox: OutboxRelay,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.task = new PeriodicTask('saga deadline sweep', SWEEP_EVERY_MS, () => this.sweep(), logger);
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }

  /** Fails the overdue sagas, a batch at a time. */
  private async sweep(): Promise<void> {
    for (;;) {
      const expired = await this.sagas.transaction(async (manager) => {
        const overdue = await this.sagas.claimOverdue(manager, BATCH);
        await this.coordinator.expire(manager, overdue);
        return overdue.length;
      });
      if (expired > 0) this.outbox.kick();
      if (expired < BATCH) return;
    }
  }
}
