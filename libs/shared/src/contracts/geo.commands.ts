import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, IsUrl, IsUUID, Matches, MaxLength, MinLength, ValidateIf, ValidateNested } from 'class-validator';
import type { ContractsOf } from './contract.js';

export const GEO_FORMATS = ['geojson', 'kml', 'kmz', 'shapefile', 'geopackage', 'filegdb', 'csv'] as const;
export type GeoFormat = (typeof GEO_FORMATS)[number];

/** Import a GIS file into PostGIS and describe it: the geopreview of one portal resource. */
/** Who hears of a geopreview when it ends (its Notify step, run by geo-service whatever the outcome). */
export class GeoPreviewNotify {
  /**
   * HDX compatibility: POST the outcome to the portal's `{CKAN_API_BASE_URL}/{CKAN_RESOURCE_UPDATE_ACTION}` as
   * `{id, shape_info, batch_mode: "KEEP_OLD"}`, with geo-service's configured portal key.
   */
  @IsOptional()
  @IsBoolean()
  ckan?: boolean;

  /** POST the finished job (`{id, type, state, result, error, finishedAt}`) to this URL. */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  @MaxLength(2_000)
  callbackUrl?: string;
}

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

  @IsOptional()
  @ValidateNested()
  @Type(() => GeoPreviewNotify)
  notify?: GeoPreviewNotify;
}

/** A layer id: a table of the layers schema made by a geopreview (`pre_…`). */
export const LAYER_ID_PATTERN = /^pre_[a-z0-9_]{1,59}$/;

/**
 * Drop a previewed layer: by `layerId` (one table), or by `resourceId` (every layer of that portal resource, as
 * HDX's delete-one-layer does). Only geo-service may drop tables of the layers schema.
 */
export class GeoLayerDeleteV1 {
  @IsUUID()
  jobId!: string;

  @ValidateIf((payload: GeoLayerDeleteV1) => payload.resourceId === undefined)
  @Matches(LAYER_ID_PATTERN, { message: 'layerId must be a layer id (pre_ followed by lower-case letters, digits, _)' })
  layerId?: string;

  @ValidateIf((payload: GeoLayerDeleteV1) => payload.layerId === undefined)
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  resourceId?: string;
}

export interface GeoCommands {
  'geo.preview': GeoPreviewV1;
  'geo.layer.delete': GeoLayerDeleteV1;
}

export const GEO_COMMAND_CONTRACTS: ContractsOf<GeoCommands> = {
  'geo.preview': { version: 1, payload: GeoPreviewV1 },
  'geo.layer.delete': { version: 1, payload: GeoLayerDeleteV1 },
};
