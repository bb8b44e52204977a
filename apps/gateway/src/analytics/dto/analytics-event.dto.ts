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
