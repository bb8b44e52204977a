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

/** Every command, by routing key. A service consumes the commands whose key starts with its name. */
export interface Commands {
  'geo.noop': NoopCommandV1;
  'export.noop': NoopCommandV1;
  'analytics.noop': NoopCommandV1;
}

export type CommandKey = keyof Commands;

export const COMMAND_CONTRACTS: ContractsOf<Commands> = {
  'geo.noop': { version: 1, payload: NoopCommandV1 },
  'export.noop': { version: 1, payload: NoopCommandV1 },
  'analytics.noop': { version: 1, payload: NoopCommandV1 },
};
