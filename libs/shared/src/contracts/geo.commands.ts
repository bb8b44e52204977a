import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  IsUUID,
  Matches,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { JobErrorV1, MAX_FANOUT_SUBTASKS } from './job.events.js';
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

/** What a geopreview is about: its job, the portal resource, where the file came from, and who hears of the outcome. */
export class GeoPreviewSubjectV1 {
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

  @IsOptional()
  @ValidateNested()
  @Type(() => GeoPreviewNotify)
  notify?: GeoPreviewNotify;
}

export class GeoPreviewV1 extends GeoPreviewSubjectV1 {
  /** Import only this layer of a multi-layer source: one subtask of the fan-out. */
  @IsOptional()
  @IsString()
  @MaxLength(500)
  layer?: string;
}

/** A subtask's error, as the saga coordinator hands it to a merge step. */
export class SubtaskErrorV1 extends JobErrorV1 {
  @IsUUID()
  jobId!: string;
}

/** What the saga coordinator adds to a merge step's input: whose subtasks it merges, and how they ended. */
export class SagaSummaryV1 {
  @IsUUID()
  parentId!: string;

  @IsInt()
  @Min(0)
  subtasks!: number;

  /** The subtasks that failed or were cancelled (a merge runs with failures only when it asked to: `always`). */
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => SubtaskErrorV1)
  errors?: SubtaskErrorV1[];
}

/**
 * The merge step of a geopreview that fanned out one subtask per layer: describes the layers the subtasks
 * imported as one result, tells whoever `notify` names, and removes the upload the subtasks shared.
 */
export class GeoPreviewMergeV1 extends GeoPreviewSubjectV1 {
  /** The layer keys of the upload, one per subtask, in order. */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_FANOUT_SUBTASKS)
  @IsString({ each: true })
  @MaxLength(500, { each: true })
  layers!: string[];

  /** The storage folder (a key prefix ending in `/`) holding the upload the subtasks read. */
  @IsString()
  @Matches(/^[A-Za-z0-9._\-=+@/]+\/$/, { message: 'sharedPrefix must be a storage key prefix ending in /' })
  sharedPrefix!: string;

  @ValidateNested()
  @Type(() => SagaSummaryV1)
  saga!: SagaSummaryV1;
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
  'geo.preview.merge': GeoPreviewMergeV1;
  'geo.layer.delete': GeoLayerDeleteV1;
}

export const GEO_COMMAND_CONTRACTS: ContractsOf<GeoCommands> = {
  'geo.preview': { version: 1, payload: GeoPreviewV1 },
  'geo.preview.merge': { version: 1, payload: GeoPreviewMergeV1 },
  'geo.layer.delete': { version: 1, payload: GeoLayerDeleteV1 },
};
