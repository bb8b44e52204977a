import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { MAX_FANOUT_SUBTASKS } from './job.events.js';
import type { ContractsOf } from './contract.js';

/** A noop that fans out once running (`job.fanout`), as a job that finds its subtasks only at run time does. */
export class NoopFanoutV1 {
  @IsInt()
  @Min(1)
  @Max(MAX_FANOUT_SUBTASKS)
  children!: number;

  /** Of the subtasks, how many fail (the first ones), each with the message `subtask <n> failed`. */
  @IsOptional()
  @IsInt()
  @Min(0)
  failChildren?: number;

  /** A noop merge step; run whatever the subtasks' outcome when `mergeAlways`. */
  @IsOptional()
  @IsBoolean()
  merge?: boolean;

  @IsOptional()
  @IsBoolean()
  mergeAlways?: boolean;

  /** Subtasks (and merge) still out after this many seconds fail the saga. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(86_400)
  deadlineSeconds?: number;

  /** How long each subtask sleeps. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  childSleepMs?: number;
}

/** A job that does nothing but sleep or fail: for health checks, tests and benchmarks. */
export class NoopCommandV1 {
  @IsUUID()
  jobId!: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  sleepMs?: number;

  @IsOptional()
  @IsString()
  @MaxLength(2_000)
  fail?: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => NoopFanoutV1)
  fanout?: NoopFanoutV1;
}

/** The noop command of each service. */
export interface NoopCommands {
  'geo.noop': NoopCommandV1;
  'export.noop': NoopCommandV1;
  'analytics.noop': NoopCommandV1;
}

export const NOOP_COMMAND_CONTRACTS: ContractsOf<NoopCommands> = {
  'geo.noop': { version: 1, payload: NoopCommandV1 },
  'export.noop': { version: 1, payload: NoopCommandV1 },
  'analytics.noop': { version: 1, payload: NoopCommandV1 },
};
