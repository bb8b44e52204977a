import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import type { QueueName } from '#shared';
import { WORK_QUEUES } from '../dead-letters.js';

export class QueueParams {
  @IsIn(WORK_QUEUES)
  queue!: QueueName;
}

export class DeadLettersQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class DeadLetterActionDto {
  @ApiProperty({ required: false, description: 'the message to act on; all of the queue’s dead letters when absent' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  messageId?: string;
}
