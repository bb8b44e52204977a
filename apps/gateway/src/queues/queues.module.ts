import { Module } from '@nestjs/common';
import { ManagementClient } from './management.client.js';
import { QueuesController } from './queues.controller.js';
import { QueuesService } from './queues.service.js';

/** The dashboard's queues page: RabbitMQ's management API through the gateway, and dead-letter replay. */
@Module({
  controllers: [QueuesController],
  providers: [QueuesService, ManagementClient],
})
export class QueuesModule {}
