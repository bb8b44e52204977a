import { Transform, Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min, Validate, ValidateIf } from 'class-validator';
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

  /** Longest wait for the next bytes of a download (its headers included): a server that stalls fails after this. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  GEOJOBS_EXPORT_READ_TIMEOUT_MS = 60_000;

  /**
   * Wall-clock cap of one download (a dataset's resource, a file to convert), redirects included: a server that never
   * stops sending, or sends a byte at a time, fails after this. Unset: the export's deadline (GEOJOBS_EXPORT_DEADLINE_SECONDS).
   */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  GEOJOBS_EXPORT_DOWNLOAD_TIMEOUT_MS?: number;

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

  /** The previewed layer (a table of the layers schema, `pre_…`) the `vector_clip` processor clips; it fails saying so when unset. */
  @IsOptional()
  @Matches(/^pre_[a-z0-9_]+$/, { message: 'must be a layer id (pre_ followed by lower-case letters, digits, _)' })
  GEOJOBS_PACKAGES_VECTOR_LAYER?: string;

  /** The storage key of the GeoTIFF the `raster_clip` processor clips; it fails saying so when unset. */
  @IsOptional()
  @IsString()
  GEOJOBS_PACKAGES_RASTER_SOURCE?: string;

  /** A processor output marked running whose heartbeat is older than this was abandoned (its service died): it is rebuilt. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  GEOJOBS_PACKAGES_STALE_SECONDS = 600;

  /**
   * Remote files of `export.convert` (convert/remote). `gs://bucket/key` goes through Google Cloud Storage's
   * S3-compatible XML API, signed with an HMAC key of a service account (both or neither; without them gs:// URIs are
   * refused). The endpoint is configurable so tests use a local S3-compatible server.
   */
  @ValidateIf((config: ExportConfig) => config.GEOJOBS_GCS_HMAC_SECRET !== undefined)
  @IsString({ message: 'must be set together with GEOJOBS_GCS_HMAC_SECRET' })
  GEOJOBS_GCS_HMAC_ACCESS_ID?: string;

  @ValidateIf((config: ExportConfig) => config.GEOJOBS_GCS_HMAC_ACCESS_ID !== undefined)
  @IsString({ message: 'must be set together with GEOJOBS_GCS_HMAC_ACCESS_ID' })
  GEOJOBS_GCS_HMAC_SECRET?: string;

  @Matches(/^https?:\/\/[^/]+\/?$/, { message: 'must be an http(s):// origin' })
  GEOJOBS_GCS_ENDPOINT = 'https://storage.googleapis.com';

  /**
   * `s3://bucket/key` inputs and outputs: their own endpoint (AWS when unset; path-style addressing when set) and
   * credentials, never those of geojobs' storage (GEOJOBS_S3_*), so a user's URI cannot reach geojobs' own bucket.
   * Without credentials s3:// URIs are refused.
   */
  @IsOptional()
  @Matches(/^https?:\/\/[^/]+\/?$/, { message: 'must be an http(s):// origin' })
  GEOJOBS_REMOTE_S3_ENDPOINT?: string;

  @IsString()
  GEOJOBS_REMOTE_S3_REGION = 'us-east-1';

  @ValidateIf((config: ExportConfig) => config.GEOJOBS_REMOTE_S3_SECRET_ACCESS_KEY !== undefined)
  @IsString({ message: 'must be set together with GEOJOBS_REMOTE_S3_SECRET_ACCESS_KEY' })
  GEOJOBS_REMOTE_S3_ACCESS_KEY_ID?: string;

  @ValidateIf((config: ExportConfig) => config.GEOJOBS_REMOTE_S3_ACCESS_KEY_ID !== undefined)
  @IsString({ message: 'must be set together with GEOJOBS_REMOTE_S3_ACCESS_KEY_ID' })
  GEOJOBS_REMOTE_S3_SECRET_ACCESS_KEY?: string;
}

export const EXPORT_CONFIG = Symbol('EXPORT_CONFIG');
