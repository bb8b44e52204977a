import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsObject, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import type { HdxSendAnalyticsBody } from '#shared';

/** What the portal sends as a flag: JSON booleans, or the strings form encoders and Python make of them. */
const FLAGS = [true, false, 'true', 'false', 'True', 'False', '1', '0', 'yes', 'no', 'on', 'off'];

/** HDX's `POST /api/send-analytics` body (ckanext-hdx_theme's AbstractAnalyticsSender), fields as HDX names them. */
export class HdxSendAnalyticsDto implements HdxSendAnalyticsBody {
  @ApiProperty({ example: 'resource download' })
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  event_name!: string;

  @ApiProperty({ required: false, description: 'true when left out; booleans or "true"/"false"' })
  @IsOptional()
  @IsIn(FLAGS)
  send_mixpanel?: boolean | string;

  @ApiProperty({ required: false, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  mixpanel_token?: string | null;

  @ApiProperty({ required: false, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  mixpanel_tracking_id?: string | null;

  @ApiProperty({ required: false, nullable: true, type: Object })
  @IsOptional()
  @IsObject()
  mixpanel_meta?: Record<string, unknown> | null;

  @ApiProperty({ required: false, description: 'false when left out; booleans or "true"/"false"' })
  @IsOptional()
  @IsIn(FLAGS)
  send_ga?: boolean | string;

  @ApiProperty({ required: false, nullable: true, type: Object, description: 'Universal Analytics Measurement Protocol fields' })
  @IsOptional()
  @IsObject()
  ga_meta?: Record<string, unknown> | null;
}
