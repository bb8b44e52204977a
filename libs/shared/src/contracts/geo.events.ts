import { IsObject, IsString, IsUUID } from 'class-validator';
import type { ContractsOf } from './contract.js';

/** A layer is in PostGIS and described; the gateway and anyone else may now serve it. */
export class GeoLayerImportedV1 {
  @IsUUID()
  jobId!: string;

  @IsString()
  resourceId!: string;

  @IsString()
  layerId!: string;

  /** Bounding box, fields, feature count, geometry type, SRID, features dropped by cleaning. */
  @IsObject()
  description!: Record<string, unknown>;
}

export interface GeoEvents {
  'geo.layer.imported': GeoLayerImportedV1;
}

export const GEO_EVENT_CONTRACTS: ContractsOf<GeoEvents> = {
  'geo.layer.imported': { version: 1, payload: GeoLayerImportedV1 },
};
