import { plainToInstance, Transform, Type } from 'class-transformer';
import { ArrayNotEmpty, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, ValidateIf, validateSync } from 'class-validator';
import type { LogLevel } from '../logging/logger.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** For `@Transform`: a comma-separated variable as the list of its trimmed, non-empty parts. */
export const commaSeparated = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part.length > 0)
    : value;

const toNumbers = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.split(',').map((part) => Number(part.trim())) : value);

/** Settings every service shares: the broker, logging, the HTTP listener. */
export class ServiceConfig {
  /** The broker: one amqp:// URL, or a comma-separated URL per node of a RabbitMQ cluster (the services fail over). */
  @Transform(commaSeparated)
  @ArrayNotEmpty({ message: 'must be an amqp:// or amqps:// URL, or a comma-separated list of them' })
  @Matches(/^amqps?:\/\/.+/, { each: true, message: 'must be an amqp:// or amqps:// URL, or a comma-separated list of them' })
  GEOJOBS_AMQP_URL!: string[];

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  GEOJOBS_LOG_LEVEL: LogLevel = 'info';

  @IsString()
  GEOJOBS_HTTP_HOST = '127.0.0.1';

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000)
  GEOJOBS_DELIVERY_LIMIT = 10;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  GEOJOBS_MAX_ATTEMPTS = 5;

  @Transform(toNumbers)
  @IsInt({ each: true })
  @Min(1, { each: true })
  GEOJOBS_RETRY_DELAYS_MS: number[] = [1_000, 5_000, 30_000];

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000)
  GEOJOBS_MAX_UNCONFIRMED = 2_000;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  @IsOptional()
  GEOJOBS_PREFETCH?: number;

  /** Where files live between steps, jobs and services: a local folder, or an S3-compatible bucket. */
  @IsIn(['local', 's3'])
  GEOJOBS_STORAGE: 'local' | 's3' = 'local';

  /** The folder of the local storage backend (shared by every service on the machine). */
  @IsString()
  GEOJOBS_STORAGE_DIR = '.data/storage';

  @ValidateIf((config: ServiceConfig) => config.GEOJOBS_STORAGE === 's3')
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'must be an S3 bucket name' })
  GEOJOBS_S3_BUCKET?: string;

  /** An S3-compatible endpoint (MinIO, Ceph, …); AWS's own when unset. */
  @IsOptional()
  @Matches(/^https?:\/\/.+/, { message: 'must be an http(s):// URL' })
  GEOJOBS_S3_ENDPOINT?: string;

  @IsString()
  GEOJOBS_S3_REGION = 'us-east-1';

  /** Credentials, both or neither; the SDK's default chain (environment, instance role) when unset. */
  @ValidateIf((config: ServiceConfig) => config.GEOJOBS_S3_SECRET_ACCESS_KEY !== undefined)
  @IsString({ message: 'must be set together with GEOJOBS_S3_SECRET_ACCESS_KEY' })
  GEOJOBS_S3_ACCESS_KEY_ID?: string;

  @ValidateIf((config: ServiceConfig) => config.GEOJOBS_S3_ACCESS_KEY_ID !== undefined)
  @IsString({ message: 'must be set together with GEOJOBS_S3_ACCESS_KEY_ID' })
  GEOJOBS_S3_SECRET_ACCESS_KEY?: string;

  /** Path-style addressing (`endpoint/bucket/key`), which most S3-compatible servers need. */
  @IsIn(['true', 'false'])
  GEOJOBS_S3_FORCE_PATH_STYLE: 'true' | 'false' = 'true';
}

/**
 * Reads a config class from the environment, once, at boot. Unknown variables are ignored; a missing or bad
 * one stops the process with a message naming every offending variable and what it must be.
 */
export function loadConfig<T extends object>(cls: new () => T, env: NodeJS.ProcessEnv = process.env): T {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const config = plainToInstance(cls, present, { exposeDefaultValues: true });
  const errors = validateSync(config, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) {
    const lines = errors.map((error) => {
      const secret = /URL|PASSWORD|SECRET|KEY/.test(error.property);
      const shown = error.value === undefined ? 'not set' : secret ? 'value hidden' : `got ${JSON.stringify(error.value)}`;
      return `  ${error.property} (${shown}): ${Object.values(error.constraints ?? {}).join('; ')}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return config;
}
