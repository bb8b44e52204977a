import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/auth.decorators.js';
import { DeadLetterActionDto, DeadLettersQuery, QueueParams } from './dto/queues.dto.js';
import { QueuesService } from './queues.service.js';

/**
 * Operators' view of the broker: admins, and readers who see everything. A portal may not look: dead letters carry
 * other owners' messages.
 */
@ApiTags('queues')
@ApiBearerAuth()
@Roles('admin', 'reader')
@Controller('queues')
export class QueuesController {
  constructor(@Inject(QueuesService) private readonly queues: QueuesService) {}

  /** Depth, consumers and rates of every work queue and dead-letter queue, and a link to the management UI. */
  @Get()
  list() {
    return this.queues.queues();
  }

  /** The first dead letters of a work queue, with why, the error and the attempts. */
  @Get(':queue/dead-letters')
  deadLetters(@Param() params: QueueParams, @Query() query: DeadLettersQuery) {
    return this.queues.deadLetters(params.queue, query.limit ?? 50);
  }

  /** Back to the original queue: the dead letter with `messageId`, or all of them. */
  @Post(':queue/dead-letters/replay')
  @Roles('admin')
  @HttpCode(200)
  async replay(@Param() params: QueueParams, @Body() body: DeadLetterActionDto) {
    return { replayed: await this.queues.replay(params.queue, body.messageId) };
  }

  /** Dropped for good: the dead letter with `messageId`, or all of them. */
  @Post(':queue/dead-letters/discard')
  @Roles('admin')
  @HttpCode(200)
  async discard(@Param() params: QueueParams, @Body() body: DeadLetterActionDto) {
    return { discarded: await this.queues.discard(params.queue, body.messageId) };
  }
}
