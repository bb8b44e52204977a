import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { SERVICES, type ServiceName } from './routing.js';
import type { ContractsOf } from './contract.js';
import type { Envelope } from './envelope.js';

export class JobStartedV1 {
  @IsUUID()
  jobId!: string;

  @IsIn(SERVICES)
  service!: ServiceName;
}

export class JobProgressV1 {
  @IsUUID()
  jobId!: string;

  @IsInt()
  @Min(0)
  current!: number;

  @IsInt()
  @Min(0)
  total!: number;

  @IsString()
  @MaxLength(1_000)
  message!: string;
}

export class JobSucceededV1 {
  @IsUUID()
  jobId!: string;

  @IsObject()
  result!: Record<string, unknown>;

  /**
   * When the service began the job, for a job that ended before its service sent `job.started` (a quick one): the
   * gateway records the job as started then. Optional, so events of services without it (version 1 as first
   * published) read as before.
   */
  @IsOptional()
  @IsISO8601({ strict: true })
  startedAt?: string;
}

/** What went wrong, in the shape the portal shows: a category, the error class, a readable message. */
export class JobErrorV1 {
  @IsString()
  type!: string;

  @IsString()
  class!: string;

  @IsString()
  message!: string;
}

export class JobFailedV1 {
  @IsUUID()
  jobId!: string;

  @ValidateNested()
  @Type(() => JobErrorV1)
  error!: JobErrorV1;

  /** As JobSucceededV1's. */
  @IsOptional()
  @IsISO8601({ strict: true })
  startedAt?: string;
}

/** The gateway cancelled a job: a service skips its queued command and aborts it if running. */
export class JobCancelledV1 {
  @IsUUID()
  jobId!: string;
}

/** Subtasks one fan-out may declare (the gateway caps a saga's subtasks at every level together the same way). */
export const MAX_FANOUT_SUBTASKS = 10_000;
/** The longest deadline a saga may be given, declared at submission or at a fan-out. */
export const MAX_SAGA_DEADLINE_SECONDS = 7 * 24 * 3_600;

export const SAGA_POLICIES = ['all-settled', 'fail-fast'] as const;
export type SagaPolicyName = (typeof SAGA_POLICIES)[number];

/** A job to run: one subtask of a fan-out, or its merge step. Its input is validated by the gateway as a job of that type. */
export class DeclaredJobV1 {
  @IsString()
  @MaxLength(100)
  type!: string;

  @IsObject()
  input!: Record<string, unknown>;
}

export class FanoutMergeV1 extends DeclaredJobV1 {
  /**
   * Run the merge whatever becomes of the subtasks — some failed or were cancelled, or the saga was cut short by its
   * deadline, fail-fast or a cancel — with their errors, and why it was cut, in `input.saga.errors`: e.g. to tell
   * the portal and clean up. The job still fails when a subtask did.
   */
  @IsOptional()
  @IsBoolean()
  always?: boolean;

  /**
   * The merge decides the saga's outcome (with `always`): the parent ends as the merge ends, with the merge's result
   * as its own — succeeded although some subtasks failed, when the merge made something of the rest (a dataset export
   * whose ZIP names the resources it could not get). Without it, a failed subtask fails the parent whatever the merge did.
   */
  @IsOptional()
  @IsBoolean()
  decides?: boolean;
}

/**
 * A running job found work to fan out that it could not know of when submitted (one subtask per layer of an
 * upload, per resource of a dataset): the saga coordinator records the subtasks, runs them, then the merge and
 * the job's followups. The job itself ends with the saga; its service reports nothing more for it.
 */
export class JobFanoutV1 {
  @IsUUID()
  jobId!: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_FANOUT_SUBTASKS)
  @ValidateNested({ each: true })
  @Type(() => DeclaredJobV1)
  subtasks!: DeclaredJobV1[];

  @IsOptional()
  @ValidateNested()
  @Type(() => FanoutMergeV1)
  merge?: FanoutMergeV1;

  @IsOptional()
  @IsIn(SAGA_POLICIES)
  policy?: SagaPolicyName;

  /** Subtasks (and merge) still out after this many seconds fail the saga. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_SAGA_DEADLINE_SECONDS)
  deadlineSeconds?: number;
}

/** The lifecycle events a service reports for the jobs it runs: what a `job.batch` may carry. */
export const BATCHED_EVENT_TYPES = ['job.started', 'job.progress', 'job.fanout', 'job.succeeded', 'job.failed'] as const;
export type BatchedEventKey = (typeof BATCHED_EVENT_TYPES)[number];

/** Events one `job.batch` carries at most. */
export const MAX_BATCHED_EVENTS = 500;

/**
 * Several lifecycle events of a service's jobs, reported at the same moment (quick jobs ending together), in one
 * message: each item is a whole event envelope of a type in BATCHED_EVENT_TYPES, with its own id, causation and
 * correlation, and reads exactly as if it had come alone. The batch is only their transport: one persistent message
 * and one confirm for many. Items are checked by the reader (`unbatchJobEvents`), so one malformed item is
 * dead-lettered alone and the others are applied.
 */
export class JobBatchV1 {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCHED_EVENTS)
  @IsObject({ each: true })
  events!: BatchedEvent[];
}

/** An item of a `job.batch`: a lifecycle event's whole envelope. */
export type BatchedEvent = { [K in BatchedEventKey]: Envelope<JobEvents[K], K> }[BatchedEventKey];

/** A job's lifecycle, as the service running it reports it (and the gateway, for cancellation). */
export interface JobEvents {
  'job.started': JobStartedV1;
  'job.progress': JobProgressV1;
  'job.succeeded': JobSucceededV1;
  'job.failed': JobFailedV1;
  'job.cancelled': JobCancelledV1;
  'job.fanout': JobFanoutV1;
  'job.batch': JobBatchV1;
}

export const JOB_EVENT_CONTRACTS: ContractsOf<JobEvents> = {
  'job.started': { version: 1, payload: JobStartedV1 },
  'job.progress': { version: 1, payload: JobProgressV1 },
  'job.succeeded': { version: 1, payload: JobSucceededV1 },
  'job.failed': { version: 1, payload: JobFailedV1 },
  'job.cancelled': { version: 1, payload: JobCancelledV1 },
  'job.fanout': { version: 1, payload: JobFanoutV1 },
  'job.batch': { version: 1, payload: JobBatchV1 },
};
