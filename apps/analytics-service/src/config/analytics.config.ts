import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, MaxLength, Min, MinLength, ValidateBy } from 'class-validator';
import { ServiceConfig } from '#shared';

export class AnalyticsConfig extends ServiceConfig {
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65_535)
  GEOJOBS_ANALYTICS_PORT = 3003;

  /** Mixpanel's ingestion host, `host` or `host:port`, handed to the mixpanel package (any compatible server works). */
  @Matches(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, { message: 'MIXPANEL_HOST must be a host name or host:port, without a scheme' })
  MIXPANEL_HOST = 'api.mixpanel.com';

  /** https, or http for a local server; the mixpanel package refuses http when an API secret is set, and so does this. */
  @IsIn(['https', 'http'])
  MIXPANEL_PROTOCOL: 'https' | 'http' = 'https';

  /** A path prefix before `/track` and `/import` (the package's `path` option), for a proxy. */
  @IsOptional()
  @Matches(/^(\/[A-Za-z0-9._~-]+)*$/, { message: 'MIXPANEL_PATH must be empty or like /prefix' })
  MIXPANEL_PATH = '';

  /** The project token of events that carry none (HDX's send-analytics carries its own). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  MIXPANEL_TOKEN?: string;

  /** The project's API secret: Basic auth of `/import`; without it `/import` authenticates with the event's token. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @ValidateBy({
    name: 'sentOverHttps',
    validator: {
      validate: (_value, args) => (args?.object as AnalyticsConfig).MIXPANEL_PROTOCOL === 'https',
      defaultMessage: () => 'needs MIXPANEL_PROTOCOL=https: the secret is sent as Basic auth (the mixpanel package refuses http too)',
    },
  })
  MIXPANEL_API_SECRET?: string;

  /** Events per Mixpanel request; Mixpanel takes up to 2,000 (`/import` and `/track`). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2_000)
  MIXPANEL_BATCH_SIZE = 2_000;

  /** GA4 Measurement Protocol endpoint. */
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  GA4_ENDPOINT = 'https://www.google-analytics.com/mp/collect';

  /** GA4 data stream (`G-…`); GA4 delivery is off (events for it are dead-lettered) until it and the secret are set. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  GA4_MEASUREMENT_ID?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  GA4_API_SECRET?: string;

  /** A batch not yet full is sent after this long. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(60_000)
  ANALYTICS_FLUSH_DELAY_MS = 100;

  /** A request to a destination that has not answered in this long is retried. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(600_000)
  ANALYTICS_REQUEST_TIMEOUT_MS = 10_000;

  /** First delay of the exponential backoff (with jitter) after a 429, a 5xx, a timeout or a network error. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(600_000)
  ANALYTICS_RETRY_BASE_MS = 500;

  /** Longest delay between two tries. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3_600_000)
  ANALYTICS_RETRY_MAX_MS = 30_000;

  /**
   * How long a batch is retried in the service before its messages are handed to the broker's retry path
   * (and, after GEOJOBS_MAX_ATTEMPTS, its dead-letter queue). Kept under RabbitMQ's consumer timeout (30 min).
   */
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  @Max(1_500_000)
  ANALYTICS_GIVE_UP_AFTER_MS = 900_000;
}

export const ANALYTICS_CONFIG = Symbol('ANALYTICS_CONFIG');
