import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsNumber, IsOptional, IsString, Matches, Max, Min, MinLength, Validate } from 'class-validator';
import { AllowListEntries, commaSeparated, ANALYTICS_DESTINATIONS, ServiceConfig, type AnalyticsDestination } from '#shared';

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

  /**
   * Most unfinished (queued or running) top-level jobs one owner may have: a submission that would pass it is refused
   * with 429, so one portal's bulk submission cannot fill the queues ahead of everyone else's jobs. The subtasks of
   * sagas are not counted. 0: no cap.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  GEOJOBS_MAX_QUEUED_PER_OWNER = 10_000;

  /**
   * Requests a minute each API key, each user (all its tokens together) and each address without a credential may
   * send; past it, 429 with Retry-After. Tiles, `/health` and the dashboard's files are not counted. 0: no limit.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  GEOJOBS_RATE_LIMIT_PER_MINUTE = 1_200;

  /** Vector tiles of previewed layers need no credential unless this is `false` (then any credential, or a scoped token). */
  @IsOptional()
  @IsIn(['true', 'false'])
  GEOJOBS_PUBLIC_TILES?: 'true' | 'false';

  /** Largest JSON or form body, in bytes (a batch of 1,000 analytics events or jobs is well over 100 kB). */
  @Type(() => Number)
  @IsInt()
  @Min(1_024)
  GEOJOBS_MAX_BODY_BYTES = 16 * 1_024 * 1_024;

  /** Most events one `POST /analytics/events` may carry (one analytics.track command holds at most 2,000). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2_000)
  GEOJOBS_ANALYTICS_MAX_BATCH = 1_000;

  /** Where an event that names no destinations goes: comma-separated `mixpanel`, `ga4`. */
  @Matches(new RegExp(`^(${ANALYTICS_DESTINATIONS.join('|')})(,(${ANALYTICS_DESTINATIONS.join('|')}))*$`), {
    message: `must be a comma-separated list of ${ANALYTICS_DESTINATIONS.join(', ')}`,
  })
  GEOJOBS_ANALYTICS_DESTINATIONS = 'mixpanel';

  get analyticsDestinations(): AnalyticsDestination[] {
    return [...new Set(this.GEOJOBS_ANALYTICS_DESTINATIONS.split(','))] as AnalyticsDestination[];
  }
  /** Bytes of recently served tiles kept in process memory. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  GEOJOBS_TILE_CACHE_BYTES = 64 * 1024 * 1024;

  /** `Cache-Control: max-age` of a tile. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  GEOJOBS_TILE_MAX_AGE_SECONDS = 300;

  /** Most features in a tile below zoom 12 (where one tile covers a lot of a dense layer); 0: no limit. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  GEOJOBS_TILE_MAX_FEATURES = 20_000;

  /** How long DELETE /layers/:id waits for geo-service to drop the layer before answering 202 with the job. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(60_000)
  GEOJOBS_LAYER_DELETE_WAIT_MS = 10_000;
  /** Hosts or CIDR ranges that followup webhooks and CKAN result_url callbacks may reach although private, loopback or link-local. */
  @Transform(commaSeparated)
  @Validate(AllowListEntries)
  GEOJOBS_ALLOWED_HOSTS: string[] = [];

  /** The gateway's address as users reach it (behind a proxy, the public one): the base of the `downloadUrl` links in results. */
  @IsOptional()
  @Matches(/^https?:\/\/[^/]+(\/.*)?$/, { message: 'must be an http(s):// URL' })
  GEOJOBS_PUBLIC_URL?: string;

  /** How long the TmpToken of a result's `downloadUrl` stays valid, from the moment the job is read. */
  @Type(() => Number)
  @IsNumber()
  @Min(0.01)
  GEOJOBS_DOWNLOAD_TOKEN_HOURS = 24;

  /** Result files (exports and any other job's `file`) are removed this long after their job finished; the job becomes `expired`. */
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  GEOJOBS_EXPORT_RETENTION_HOURS = 168;

  /** How often the retention sweep looks for result files past their time. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  GEOJOBS_RETENTION_SWEEP_MS = 60_000;

  /** RabbitMQ's management API with the gateway's credentials (`http://user:password@host:15672`), for the dashboard's queues page. */
  @IsOptional()
  @Matches(/^https?:\/\/.+/, { message: 'must be an http(s):// URL' })
  GEOJOBS_RABBITMQ_MGMT_URL?: string;

  /** The base of links: GEOJOBS_PUBLIC_URL, else the gateway's own address. */
  get publicUrl(): string {
    return (this.GEOJOBS_PUBLIC_URL ?? `http://${this.GEOJOBS_HTTP_HOST}:${this.GEOJOBS_GATEWAY_PORT}`).replace(/\/$/, '');
  }
}

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
