import { Transform, Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min, Validate } from 'class-validator';
import { AllowListEntries, commaSeparated, ServiceConfig } from '#shared';

export class GeoConfig extends ServiceConfig {
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65_535)
  GEOJOBS_GEO_PORT = 3001;

  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// URL' })
  GEOJOBS_GEO_DATABASE_URL!: string;

  /** Hosts or CIDR ranges that downloads and callbackUrl callbacks may reach although private, loopback or link-local. */
  @Transform(commaSeparated)
  @Validate(AllowListEntries)
  GEOJOBS_ALLOWED_HOSTS: string[] = [];

  /** The portal's action API; its API key is sent to this exact host only. */
  @IsOptional()
  @Matches(/^https?:\/\/[^/]+/, { message: 'must be an http(s):// URL' })
  CKAN_API_BASE_URL?: string;

  @IsOptional()
  @IsString()
  CKAN_API_KEY?: string;

  /** The portal action that receives a geopreview's `shape_info` (HDX: `hdx_resource_update_metadata`). */
  @IsString()
  @Matches(/^[A-Za-z0-9_.-]+$/, { message: 'must be an action name' })
  CKAN_RESOURCE_UPDATE_ACTION = 'hdx_resource_update_metadata';

  /** Tries of a callback (CKAN's resource update, a callbackUrl) answered by a 408, a 429, a 5xx, a timeout or nothing. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(20)
  GEOJOBS_GEO_CALLBACK_ATTEMPTS = 5;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  GEOJOBS_GEO_CALLBACK_TIMEOUT_MS = 10_000;

  /** First backoff delay of a callback retry; doubled at each try, capped at 30 s, with jitter. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  GEOJOBS_GEO_CALLBACK_RETRY_BASE_MS = 1_000;

  /** Largest download, checked on Content-Length and on the bytes received. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  GEOJOBS_GEO_MAX_DOWNLOAD_BYTES = 512 * 1024 * 1024;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  GEOJOBS_GEO_CONNECT_TIMEOUT_MS = 10_000;

  /** Longest wait for the next bytes of a response (headers included). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  GEOJOBS_GEO_READ_TIMEOUT_MS = 30_000;

  /** Wall-clock cap of a whole download. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  GEOJOBS_GEO_DOWNLOAD_TIMEOUT_MS = 600_000;

  /** Largest total size an archive may expand to. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  GEOJOBS_GEO_MAX_UNPACKED_BYTES = 2 * 1024 * 1024 * 1024;

  /** Largest expanded / compressed size ratio of an archive (zip bombs reach thousands). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  GEOJOBS_GEO_MAX_UNPACK_RATIO = 200;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  GEOJOBS_GEO_MAX_ARCHIVE_ENTRIES = 10_000;

  /** Where each job gets its scratch folder (removed when the job ends); the system temp folder by default. */
  @IsOptional()
  @IsString()
  GEOJOBS_GEO_SCRATCH_DIR?: string;
}

export const GEO_CONFIG = Symbol('GEO_CONFIG');
