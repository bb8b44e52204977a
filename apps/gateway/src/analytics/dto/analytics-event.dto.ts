import { ApiProperty } from '@nestjs/swagger';
import { ArrayMinSize, IsArray, IsIn, IsInt, IsObject, IsOptional, IsString, MaxLength, Min, MinLength } from 'class-validator';
import { ANALYTICS_DESTINATIONS, type AnalyticsDestination } from '#shared';

/** One portal event as `POST /analytics/events` takes it; the gateway adds its insertId (Mixpanel's `$insert_id`). */
export class AnalyticsEventDto {
  @ApiProperty({ example: 'dataset view' })
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  event!: string;

  @ApiProperty({ example: 'user-42' })
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  distinctId!: string;

  @ApiProperty({ required: false, description: 'when it happened, epoch milliseconds; now when left out' })
  @IsOptional()
  @IsInt()
  @Min(0)
  time?: number;

  @ApiProperty({ type: Object, example: { 'dataset id': 'abc', 'org name': 'ocha' } })
  @IsObject()
  properties!: Record<string, unknown>;

  @ApiProperty({ required: false, description: "Mixpanel project token; analytics-service's MIXPANEL_TOKEN when left out" })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  token?: string;

  @ApiProperty({ required: false, enum: ANALYTICS_DESTINATIONS, isArray: true, description: 'GEOJOBS_ANALYTICS_DESTINATIONS when left out' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @IsIn(ANALYTICS_DESTINATIONS, { each: true })
  destinations?: AnalyticsDestination[];
}

/** What `POST /analytics/events` answers once the events are queued durably. */
export class AnalyticsAcceptedDto {
  @ApiProperty()
  accepted!: number;

  @ApiProperty({ description: 'the analytics.track job carrying them: GET /jobs/:id says when they are delivered' })
  jobId!: string;
}

const text = (value: unknown): value is string => typeof value === 'string' && value.length >= 1 && value.length <= 255;
const plainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The event as an AnalyticsEventDto when it passes the DTO's rules, unknown fields dropped; undefined
 * otherwise (then validate with the DTO for the messages). class-validator costs ≈ 60 µs an event, most of a
 * 1,000-event request; this check of the same rules costs ≈ 1 µs (analytics-event.dto.spec.ts holds the two
 * to the same answers).
 */
export function checkedEvent(value: unknown): AnalyticsEventDto | undefined {
  if (!plainObject(value)) return undefined;
  const { event, distinctId, time, properties, token, destinations } = value;
  if (!text(event) || !text(distinctId) || !plainObject(properties)) return undefined;
  if (time !== undefined && time !== null && !(Number.isInteger(time) && (time as number) >= 0)) return undefined;
  if (token !== undefined && token !== null && !text(token)) return undefined;
  if (destinations !== undefined && destinations !== null) {
    if (!Array.isArray(destinations) || destinations.length === 0) return undefined;
    if (!destinations.every((destination) => (ANALYTICS_DESTINATIONS as readonly unknown[]).includes(destination))) return undefined;
  }
  return Object.assign(new AnalyticsEventDto(), {
    event,
    distinctId,
    properties,
    ...(typeof time === 'number' ? { time } : {}),
    ...(typeof token === 'string' ? { token } : {}),
    ...(Array.isArray(destinations) ? { destinations: destinations as AnalyticsDestination[] } : {}),
  });
}
