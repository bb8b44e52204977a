import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LAYER_GEOMETRY_COLUMN as GEOMETRY_COLUMN, LAYERS_SCHEMA, quoteIdent } from '#shared';
import { DescribeError } from './geopreview.errors.js';

export interface LayerField {
  field_name: string;
  data_type: string;
}

/** What the portal shows of a layer; the HDX names (`bounding_box`, `layer_fields`) are kept for its callback. */
export interface LayerDescription {
  layerId: string;
  /** `BOX(xmin ymin,xmax ymax)`, as PostGIS prints `ST_Extent`. */
  bounding_box: string;
  /** Every column of the table, as information_schema lists them, in order. */
  layer_fields: LayerField[];
  featureCount: number;
  geometryType: string;
  srid: number;
}

/** Describes an imported layer from its table in PostGIS. */
@Injectable()
export class DescribeService {
  constructor(@Inject(DataSource) private readonly database: DataSource) {}

  async describe(table: string): Promise<LayerDescription> {
    const [summary] = await this.database.query<{ bbox: string | null; features: number }[]>(
      `SELECT ST_Extent(${quoteIdent(GEOMETRY_COLUMN)})::text AS bbox, count(*)::int AS features FROM ${LAYERS_SCHEMA}.${quoteIdent(table)}`,
    );
    const fields = await this.database.query<LayerField[]>(
      `SELECT column_name::text AS field_name, data_type::text AS data_type
         FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [LAYERS_SCHEMA, table],
    );
    const [geometry] = await this.database.query<{ type: string; srid: number }[]>(
      `SELECT type, srid FROM geometry_columns WHERE f_table_schema = $1 AND f_table_name = $2 AND f_geometry_column = $3`,
      [LAYERS_SCHEMA, table, GEOMETRY_COLUMN],
    );
    if (summary.features === 0 || summary.bbox === null) throw new DescribeError('the layer holds no features with a geometry');
    if (fields.length === 0) throw new DescribeError('the layer has no fields');
    return {
      layerId: table,
      bounding_box: summary.bbox,
      layer_fields: fields,
      featureCount: summary.features,
      geometryType: geometry?.type ?? 'GEOMETRY',
      srid: geometry?.srid ?? 4326,
    };
  }
}
