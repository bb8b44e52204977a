import { Module } from '@nestjs/common';
import { OutboxModule } from '../outbox/outbox.module.js';
import { SagaDeadlineSweeper } from './saga-deadline.sweeper.js';
import { SagaCoordinator } from './saga.coordinator.js';
import { SagasRepository } from './sagas.repository.js';

/**
 * Job trees: inserting a job with its subtasks, counting their settlements, merging, cutting short, cancelling —
 * always inside the transaction of the caller that moved the jobs (the event applier, a cancel), so it is below
 * the jobs feature and above the outbox it writes to.
 */
@Module({
  imports: [OutboxModule],
  providers: [SagasRepository, SagaCoordinator, SagaDeadlineSweeper],
  exports: [SagasRepository, SagaCoordinator],
})
export class SagasModule {}
