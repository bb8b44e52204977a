import { Type } from 'class-transformer';
import { IsInt, Matches, Max, Min } from 'class-validator';
import { ServiceConfig } from '#shared';

export class ExportConfig extends ServiceConfig {
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65_535)
  GEOJOBS_EXPORT_PORT = 3002;

  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// URL' })
  GEOJOBS_EXPORT_DATABASE_URL!: string;
}

export const EXPORT_CONFIG = Symbol('EXPORT_CONFIG');
