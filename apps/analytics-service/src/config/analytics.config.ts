import { Type } from 'class-transformer';
import { IsInt, Matches, Max, Min } from 'class-validator';
import { ServiceConfig } from '#shared';

export class AnalyticsConfig extends ServiceConfig {
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65_535)
  GEOJOBS_ANALYTICS_PORT = 3003;
}

export const ANALYTICS_CONFIG = Symbol('ANALYTICS_CONFIG');
