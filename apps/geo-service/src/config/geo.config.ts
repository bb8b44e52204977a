import { Type } from 'class-transformer';
import { IsInt, Matches, Max, Min } from 'class-validator';
import { ServiceConfig } from '#shared';

export class GeoConfig extends ServiceConfig {
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65_535)
  GEOJOBS_GEO_PORT = 3001;

  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// URL' })
  GEOJOBS_GEO_DATABASE_URL!: string;
}

export const GEO_CONFIG = Symbol('GEO_CONFIG');
