import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsObject, IsOptional, IsString, IsUUID, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';
import type { ContractsOf } from './contract.js';

export const ANALYTICS_DESTINATIONS = ['mixpanel', 'ga4'] as const;
export type AnalyticsDestination = (typeof ANALYTICS_DESTINATIONS)[number];

/** One portal event, as the gateway accepted it. */
export class AnalyticsEventV1 {
  /** Unique per event; Mixpanel's `$insert_id`, so a redelivered event is counted once. */
  @IsUUID()
  insertId!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(255)
  event!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(255)
  distinctId!: string;

  /** When it happened, epoch milliseconds. */
  @IsInt()
  @Min(0)
  time!: number;

  @IsObject()
  properties!: Record<string, unknown>;

  /** Mixpanel project token of this event (HDX sends one per event); analytics-service falls back to MIXPANEL_TOKEN. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  token?: string;

  /** Where the event goes; each destination receives it once. */
  @IsArray()
  @ArrayMinSize(1)
  @IsIn(ANALYTICS_DESTINATIONS, { each: true })
  destinations!: AnalyticsDestination[];
}

/** Deliver events to their destinations. Sent by the gateway for `POST /analytics/events` and HDX's send-analytics. */
export class AnalyticsTrackV1 {
  /** Set when the events belong to a job (a followup, a `POST /jobs` of type analytics.track). */
  @IsOptional()
  @IsUUID()
  jobId?: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(2_000)
  @ValidateNested({ each: true })
  @Type(() => AnalyticsEventV1)
  events!: AnalyticsEventV1[];
}

export interface AnalyticsCommands {
  'analytics.track': AnalyticsTrackV1;
}

export const ANALYTICS_COMMAND_CONTRACTS: ContractsOf<AnalyticsCommands> = {
  'analytics.track': { version: 1, payload: AnalyticsTrackV1 },
};
