import { IsIn, IsOptional, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';
import type { ContractsOf } from './contract.js';

export const GEO_FORMATS = ['geojson', 'kml', 'kmz', 'shapefile', 'geopackage', 'filegdb', 'csv'] as const;
export type GeoFormat = (typeof GEO_FORMATS)[number];

/** Import a GIS file into PostGIS and describe it: the geopreview of one portal resource. */
export class GeoPreviewV1 {
  @IsUUID()
  jobId!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(200)
  datasetId!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(200)
  resourceId!: string;

  /** http(s) URL, or a storage URI. */
  @IsString()
  @MaxLength(4_000)
  url!: string;

  /** Taken from the file when absent. */
  @IsOptional()
  @IsIn(GEO_FORMATS)
  format?: GeoFormat;

  /** Import only this layer of a multi-layer source: one subtask of the fan-out. */
  @IsOptional()
  @IsString()
  @MaxLength(500)
  layer?: string;
}

export interface GeoCommands {
  'geo.preview': GeoPreviewV1;
}

export const GEO_COMMAND_CONTRACTS: ContractsOf<GeoCommands> = {
  'geo.preview': { version: 1, payload: GeoPreviewV1 },
};
