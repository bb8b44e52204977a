import { Transform, Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min, Validate } from 'class-validator';
import { AllowListEntries, commaSeparated, ServiceConfig } from '#shared';

export class ExportConfig extends ServiceConfig {
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65_535)
  GEOJOBS_EXPORT_PORT = 3002;

  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// URL' })
  GEOJOBS_EXPORT_DATABASE_URL!: string;

  /** Hosts or CIDR ranges that downloads (dataset resources, convert inputs and outputs) may reach although private or loopback. */
  @Transform(commaSeparated)
  @Validate(AllowListEntries)
  GEOJOBS_ALLOWED_HOSTS: string[] = [];

  /** The portal's action API (`package_show` for dataset exports); its API key is sent to this exact host only. */
  @IsOptional()
  @Matches(/^https?:\/\/[^/]+/, { message: 'must be an http(s):// URL' })
  CKAN_API_BASE_URL?: string;

  @IsOptional()
  @IsString()
  CKAN_API_KEY?: string;

  /** An export still running after this long fails with a clear error instead of running on. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  GEOJOBS_EXPORT_DEADLINE_SECONDS = 3_600;

  /**
   * Largest .shp or .dbf of one shapefile part: a layer that would pass it is split into parts. The format's own limit
   * is 2 GiB (32-bit offsets); tests set a small one.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1_024)
  @Max(2 * 1024 * 1024 * 1024)
  GEOJOBS_SHAPEFILE_MAX_BYTES = 2 * 1024 * 1024 * 1024;

  /** Largest download (a dataset's resource, a database to convert), checked on Content-Length and on the bytes received. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  GEOJOBS_EXPORT_MAX_DOWNLOAD_BYTES = 4 * 1024 * 1024 * 1024;

  /**
   * The Firebird 3 server that export.convert reads Firebird databases through (scripts/infra.sh starts it). It opens
   * the files of the job's scratch folder itself, so it runs on this machine, as this service's user.
   */
  @IsString()
  GEOJOBS_FIREBIRD_HOST = '127.0.0.1';

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65_535)
  GEOJOBS_FIREBIRD_PORT = 3050;

  @IsString()
  GEOJOBS_FIREBIRD_USER = 'SYSDBA';

  /** Absent: Firebird inputs fail with a message saying so. */
  @IsOptional()
  @IsString()
  GEOJOBS_FIREBIRD_PASSWORD?: string;

  /** Where jobs make their scratch folders; the system temp folder when absent. */
  @IsOptional()
  @IsString()
  GEOJOBS_EXPORT_SCRATCH_DIR?: string;
}

export const EXPORT_CONFIG = Symbol('EXPORT_CONFIG');
