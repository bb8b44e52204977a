import { Module } from '@nestjs/common';
import { FollowupsRepository } from '../followups/followups.repository.js';
import { OutboxRelay } from '../outbox/outbox.relay.js';
import { SagaDeadlineSweeper } from '../sagas/saga-deadline.sweeper.js';
import { SagaCoordinator } from '../sagas/saga.coordinator.js';
import { SagasRepository } from '../sagas/sagas.repository.js';
import { JobChangesListener } from './job-changes.listener.js';
import { JobEventsApplier } from './job-events.applier.js';
import { JobEventsConsumer } from './job-events.consumer.js';
import { JobsController } from './jobs.controller.js';
import { JobsRepository } from './jobs.repository.js';
import { JobsService } from './jobs.service.js';
import { ResultFiles } from './result-files.js';

@Module({
  controllers: [JobsController],
  providers: [
    JobsService,
    JobsRepository,
    JobEventsApplier,
    JobEventsConsumer,
    JobChangesListener,
    OutboxRelay,
    ResultFiles,
    // the saga coordinator counts settlements in the applier's transactions, so it lives beside it
    SagasRepository,
    SagaCoordinator,
    SagaDeadlineSweeper,
    FollowupsRepository,
  ],
  exports: [JobsService, JobsRepository, FollowupsRepository],
})
export class JobsModule {}
