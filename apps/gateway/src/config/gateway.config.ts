import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, Validate } from 'class-validator';
import { AllowListEntries, ServiceConfig } from '#shared';

const toList = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.split(',').map((part) => part.trim()).filter((part) => part.length > 0) : value;

export class GatewayConfig extends ServiceConfig {
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65_535)
  GEOJOBS_GATEWAY_PORT = 3000;

  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// URL' })
  GEOJOBS_GATEWAY_DATABASE_URL!: string;

  /** Signs access and temporary tokens; keep it across restarts or every token dies with the process. */
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters' })
  GEOJOBS_JWT_SECRET!: string;

  @Type(() => Number)
  @IsInt()
  @Min(60)
  @Max(7 * 24 * 3_600)
  GEOJOBS_TOKEN_TTL_SECONDS = 3_600;

  /** The first admin, created at start when no user of that name exists. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  GEOJOBS_ADMIN_USER?: string;

  @IsOptional()
  @IsString()
  @MinLength(8, { message: 'must be at least 8 characters' })
  GEOJOBS_ADMIN_PASSWORD?: string;

  /** Failed and successful logins allowed per client address per minute. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  GEOJOBS_LOGIN_ATTEMPTS_PER_MINUTE = 10;

  /** Where job result files live (the local storage backend). */
  @IsString()
  GEOJOBS_STORAGE_DIR = '.data/storage';

  @IsOptional()
  @IsIn(['true', 'false'])
  GEOJOBS_PUBLIC_TILES?: 'true' | 'false';

  /** Hosts or CIDR ranges that followup webhooks may reach although private or loopback. */
  @Transform(toList)
  @Validate(AllowListEntries)
  GEOJOBS_ALLOWED_HOSTS: string[] = [];
}

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
