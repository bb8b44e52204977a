import { Type } from 'class-transformer';
import { IsIn, IsInt, IsObject, IsString, IsUUID, MaxLength, Min, ValidateNested } from 'class-validator';
import { SERVICES, type ServiceName } from './routing.js';
import type { ContractsOf } from './contract.js';

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
}

/** The gateway cancelled a job: a service skips its queued command and aborts it if running. */
export class JobCancelledV1 {
  @IsUUID()
  jobId!: string;
}

/** A job's lifecycle, as the service running it reports it (and the gateway, for cancellation). */
export interface JobEvents {
  'job.started': JobStartedV1;
  'job.progress': JobProgressV1;
  'job.succeeded': JobSucceededV1;
  'job.failed': JobFailedV1;
  'job.cancelled': JobCancelledV1;
}

export const JOB_EVENT_CONTRACTS: ContractsOf<JobEvents> = {
  'job.started': { version: 1, payload: JobStartedV1 },
  'job.progress': { version: 1, payload: JobProgressV1 },
  'job.succeeded': { version: 1, payload: JobSucceededV1 },
  'job.failed': { version: 1, payload: JobFailedV1 },
  'job.cancelled': { version: 1, payload: JobCancelledV1 },
};
