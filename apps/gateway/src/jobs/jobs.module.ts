import { Module } from '@nestjs/common';
import { OutboxRelay } from '../outbox/outbox.relay.js';
import { JobChangesListener } from './job-changes.listener.js';
import { JobEventsApplier } from './job-events.applier.js';
import { JobEventsConsumer } from './job-events.consumer.js';
import { JobsController } from './jobs.controller.js';
import { JobsRepository } from './jobs.repository.js';
import { JobsService } from './jobs.service.js';
import { ResultFiles } from './result-files.js';

@Module({
  controllers: [JobsController],
  providers: [JobsService, JobsRepository, JobEventsApplier, JobEventsConsumer, JobChangesListener, OutboxRelay, ResultFiles],
  exports: [JobsService, JobsRepository],
})
export class JobsModule {}
