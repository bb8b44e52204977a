import { Module } from '@nestjs/common';
import { OutboxModule } from '../outbox/outbox.module.js';
import { SagasModule } from '../sagas/sagas.module.js';
import { JobChangesListener } from './job-changes.listener.js';
import { JobEventsApplier } from './job-events.applier.js';
import { JobEventsConsumer } from './job-events.consumer.js';
import { JobsController } from './jobs.controller.js';
import { JobsRepository } from './jobs.repository.js';
import { JobsService } from './jobs.service.js';
import { ResultFiles } from './result-files.js';
import { ResultLinks } from './result-links.js';
import { RetentionSweeper } from './retention.sweeper.js';

/** The jobs API and the services' lifecycle events applied to the jobs table; writes go through the sagas module. */
@Module({
  imports: [SagasModule, OutboxModule],
  controllers: [JobsController],
  providers: [JobsService, JobsRepository, JobEventsApplier, JobEventsConsumer, JobChangesListener, ResultFiles, ResultLinks, RetentionSweeper],
  exports: [JobsService, JobsRepository, ResultLinks],
})
export class JobsModule {}
