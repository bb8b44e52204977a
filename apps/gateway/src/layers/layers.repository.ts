import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LAYER_FID_COLUMN, LAYER_GEOMETRY_COLUMN, LAYER_ID_PATTERN, LAYERS_SCHEMA, WEB_MERCATOR, webMercatorPredicate } from '#shared';

/** `"it""s"` */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export interface LayerColumn {
  name: string;
  dataType: string;
  /** `geometry`, `int4`, `text`… */
  udtName: string;
}

/** What the gateway needs to know of a layer table to describe it and cut tiles from it. */
export interface LayerTable {
  layerId: string;
  /** The table's OID: a new import (a new table swapped in) has a new one, so it versions tiles and ETags. */
  oid: number;
  geometryColumn: string;
  geometryType: string;
  srid: number;
  columns: LayerColumn[];
}

const NON_ATTRIBUTE_TYPES = new Set(['geometry', 'geography', 'raster', 'box2d', 'box3d']);

/**
 * Reads the layers schema through the gateway's role, which holds only SELECT there (geojobs_layers_reader):
 * the gateway describes layers and cuts tiles, and never changes a layer.
 */
@Injectable()
export class LayersRepository {
  constructor(@Inject(DataSource) private readonly database: DataSource) {}

  /** The layer's table, or undefined when there is none (or the id is not a layer id). */
  async find(layerId: string): Promise<LayerTable | undefined> {
    if (!LAYER_ID_PATTERN.test(layerId)) return undefined;
    const [table] = (await this.database.query(
      `SELECT c.oid::int AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'r'`,
      [LAYERS_SCHEMA, layerId],
    )) as { oid: number }[];
    if (!table) return undefined;
    const columns = (await this.database.query(
      `SELECT column_name::text AS "name", data_type::text AS "dataType", udt_name::text AS "udtName"
         FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [LAYERS_SCHEMA, layerId],
    )) as LayerColumn[];
    const geometries = (await this.database.query(
      `SELECT f_geometry_column::text AS "column", type, srid FROM geometry_columns WHERE f_table_schema = $1 AND f_table_name = $2`,
      [LAYERS_SCHEMA, layerId],
    )) as { column: string; type: string; srid: number }[];
    // geo-service names it wkb_geometry (as HDX did); any other single geometry column is taken too
    const geometry = geometries.find((candidate) => candidate.column === LAYER_GEOMETRY_COLUMN) ?? geometries[0];
    if (!geometry) return undefined;
    return { layerId, oid: table.oid, geometryColumn: geometry.column, geometryType: geometry.type, srid: geometry.srid, columns };
  }

  /** Bounding box as PostGIS prints ST_Extent, and the feature count. */
  async summary(layer: LayerTable): Promise<{ bounding_box: string | null; featureCount: number }> {
    const [row] = (await this.database.query(
      `SELECT ST_Extent(${quoteIdent(layer.geometryColumn)})::text AS bbox, count(*)::int AS features FROM ${LAYERS_SCHEMA}.${quoteIdent(layer.layerId)}`,
    )) as { bbox: string | null; features: number }[];
    return { bounding_box: row.bbox, featureCount: row.features };
  }

  /**
   * One Mapbox Vector Tile: the layer's features in tile z/x/y, in Web Mercator, clipped with a 64-pixel buffer,
   * every other column as a property and `ogc_fid` as the feature id. The WHERE repeats the partial GiST index
   * geo-service built on `ST_Transform(geometry, 3857)`, so only the tile's features are read.
   */
  async tile(layer: LayerTable, z: number, x: number, y: number, limit: number | null): Promise<Buffer> {
    const geometry = `g.${quoteIdent(layer.geometryColumn)}`;
    const fid = layer.columns.find((column) => column.name === LAYER_FID_COLUMN && ['int4', 'int8', 'int2'].includes(column.udtName));
    const attributes = layer.columns.filter((column) => column.name !== layer.geometryColumn && !NON_ATTRIBUTE_TYPES.has(column.udtName));
    const mercator = layer.srid === WEB_MERCATOR ? geometry : `ST_Transform(${geometry}, ${WEB_MERCATOR})`;
    const predicate = layer.srid === WEB_MERCATOR ? `${geometry} IS NOT NULL` : webMercatorPredicate(geometry);
    const select = attributes.map((column) => `g.${quoteIdent(column.name)}`).join(', ');
    const [row] = (await this.database.query(
      `SELECT ST_AsMVT(tile, $4, 4096, 'mvt_geometry'${fid ? `, ${quoteLiteral(fid.name)}` : ''}) AS mvt FROM (
         SELECT ST_AsMVTGeom(${mercator}, ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS mvt_geometry${select ? `, ${select}` : ''}
           FROM ${LAYERS_SCHEMA}.${quoteIdent(layer.layerId)} g
          WHERE ${predicate} AND ${mercator} && ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096)
          ${limit === null ? '' : `LIMIT ${Math.floor(limit)}`}
       ) tile WHERE tile.mvt_geometry IS NOT NULL`,
      [z, x, y, layer.layerId],
    )) as { mvt: Buffer | null }[];
    return row.mvt ?? Buffer.alloc(0);
  }
}

const quoteLiteral = (text: string): string => `'${text.replace(/'/g, "''")}'`;
