import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsIn, IsInt, IsObject, IsOptional, IsString, IsUrl, Matches, Max, Min, MinLength, ValidateIf, ValidateNested } from 'class-validator';
import { MAX_SAGA_DEADLINE_SECONDS, SAGA_POLICIES, type SagaPolicyName } from '#shared';
import { JobFilterQuery } from './job-filter.dto.js';

export const ACTION_TYPES = ['webhook', 'analytics', 'job'] as const;

export class ChainedJobDto {
  @ApiProperty()
  @IsString()
  type!: string;

  @ApiProperty()
  @IsObject()
  input!: Record<string, unknown>;
}

/** A followup: `webhook` {url, secret?}, `analytics` {event, properties?} or `job` {job: {type, input}}. */
export class ActionDto {
  @ApiProperty({ enum: ACTION_TYPES })
  @IsIn(ACTION_TYPES)
  type!: (typeof ACTION_TYPES)[number];

  @ApiProperty({ required: false })
  @ValidateIf((action: ActionDto) => action.type === 'webhook')
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  url?: string;

  @ApiProperty({ required: false })
  @IsOptional()
  @IsString()
  @MinLength(1)
  secret?: string;

  @ApiProperty({ required: false })
  @ValidateIf((action: ActionDto) => action.type === 'analytics')
  @IsString()
  @MinLength(1)
  event?: string;

  @ApiProperty({ required: false })
  @IsOptional()
  @IsObject()
  properties?: Record<string, unknown>;

  @ApiProperty({ required: false, type: ChainedJobDto })
  @ValidateIf((action: ActionDto) => action.type === 'job')
  @ValidateNested()
  @Type(() => ChainedJobDto)
  job?: ChainedJobDto;
}

export class FollowupsDto {
  @ApiProperty({ required: false, type: [ActionDto] })
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ActionDto)
  onSuccess?: ActionDto[];

  @ApiProperty({ required: false, type: [ActionDto] })
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ActionDto)
  onFailure?: ActionDto[];
}

export class SagaOptionsDto {
  @ApiProperty({ enum: SAGA_POLICIES, default: 'all-settled' })
  @IsIn(SAGA_POLICIES)
  policy!: SagaPolicyName;

  @ApiProperty({ required: false })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_SAGA_DEADLINE_SECONDS)
  deadlineSeconds?: number;
}

export class CreateJobDto {
  @ApiProperty({ example: 'noop' })
  @IsString()
  type!: string;

  @ApiProperty({ example: { service: 'geo', sleepMs: 100 } })
  @IsObject()
  input!: Record<string, unknown>;

  @ApiProperty({ required: false, description: 'the same key (per caller) returns the same job' })
  @IsOptional()
  @IsString()
  @Matches(/^[\x21-\x7e]{1,200}$/, { message: 'idempotencyKey must be 1–200 printable characters' })
  idempotencyKey?: string;

  @ApiProperty({ required: false, type: FollowupsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => FollowupsDto)
  followups?: FollowupsDto;

  @ApiProperty({ required: false, type: SagaOptionsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => SagaOptionsDto)
  saga?: SagaOptionsDto;
}

/** The filter (state, type, owner, time, search), and a page of it. */
export class ListJobsQuery extends JobFilterQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset?: number;
}
