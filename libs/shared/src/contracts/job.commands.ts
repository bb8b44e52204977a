import { IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import type { ContractsOf } from './contract.js';

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
