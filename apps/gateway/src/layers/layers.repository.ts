import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient, QueryConfig } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { LAYER_FID_COLUMN, LAYER_GEOMETRY_COLUMN, LAYER_ID_PATTERN, LAYERS_SCHEMA, WEB_MERCATOR, webMercatorPredicate, quoteIdent } from '#shared';

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
  private readonly statements = new TileStatements();

  constructor(@Inject(DataSource) private readonly database: DataSource) {}

  /** The OID of the layer's table, or undefined when there is none: a cheap check that a known layer is unchanged. */
  async oid(layerId: string): Promise<number | undefined> {
    if (!LAYER_ID_PATTERN.test(layerId)) return undefined;
    const [table] = await this.database.query<{ oid: number }[]>(
      `SELECT c.oid::int AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'r'`,
      [LAYERS_SCHEMA, layerId],
    );
    return table?.oid;
  }

  /** The layer's table, or undefined when there is none (or the id is not a layer id). */
  async find(layerId: string): Promise<LayerTable | undefined> {
    const oid = await this.oid(layerId);
    if (oid === undefined) return undefined;
    const columns = await this.database.query<LayerColumn[]>(
      `SELECT column_name::text AS "name", data_type::text AS "dataType", udt_name::text AS "udtName"
         FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [LAYERS_SCHEMA, layerId],
    );
    const geometries = await this.database.query<{ column: string; type: string; srid: number }[]>(
      `SELECT f_geometry_column::text AS "column", type, srid FROM geometry_columns WHERE f_table_schema = $1 AND f_table_name = $2`,
      [LAYERS_SCHEMA, layerId],
    );
    // geo-service names it wkb_geometry (as HDX did); any other single geometry column is taken too
    const geometry = geometries.find((candidate) => candidate.column === LAYER_GEOMETRY_COLUMN) ?? geometries[0];
    if (!geometry) return undefined;
    return { layerId, oid, geometryColumn: geometry.column, geometryType: geometry.type, srid: geometry.srid, columns };
  }

  /** Bounding box as PostGIS prints ST_Extent, and the feature count. */
  async summary(layer: LayerTable): Promise<{ bounding_box: string | null; featureCount: number }> {
    const [row] = await this.database.query<{ bbox: string | null; features: number }[]>(
      `SELECT ST_Extent(${quoteIdent(layer.geometryColumn)})::text AS bbox, count(*)::int AS features FROM ${LAYERS_SCHEMA}.${quoteIdent(layer.layerId)}`,
    );
    return { bounding_box: row.bbox, featureCount: row.features };
  }

  /**
   * One Mapbox Vector Tile (see {@link tileStatement}), run as a named statement straight on the connection pool:
   * PostgreSQL parses and plans the tile query once per connection instead of on every tile, and the hot path
   * skips TypeORM's query runner, which adds nothing to a single read.
   */
  async tile(layer: LayerTable, z: number, x: number, y: number, limit: number | null): Promise<Buffer> {
    const statement = this.statements.of(layer, limit);
    const client = await this.pool().connect();
    let recycle = false;
    try {
      recycle = this.statements.prepare(client, statement.name);
      const result = await client.query<{ mvt: Buffer | null }>({ ...statement, values: tileValues(layer, z, x, y) });
      return result.rows[0]?.mvt ?? Buffer.alloc(0);
    } finally {
      // a connection that has prepared its share of tile statements is closed, which frees them in PostgreSQL
      client.release(recycle);
    }
  }

  /** The pg pool under TypeORM's data source (the gateway's role, the same connections). */
  private pool(): Pool {
    return (this.database.driver as PostgresDriver).master as Pool;
  }
}

/** The statement, its name and text, that cuts tiles of one layer; `values` come from {@link tileValues}. */
export type TileStatement = Required<Pick<QueryConfig, 'name' | 'text'>>;

/**
 * The tile query of a layer: the layer's features in tile z/x/y ($1-$3), in Web Mercator, clipped with a 64-pixel
 * buffer, every other column as a property and `ogc_fid` as the feature id, in an MVT layer named after the layer
 * ($4). The WHERE repeats the partial GiST index geo-service built on `ST_Transform(geometry, 3857)`, so only the
 * tile's features are read. Named after a hash of its text: the same text has the same name on every connection,
 * and a changed layer (other columns) gets a new statement rather than an old one's plan.
 */
export function tileStatement(layer: LayerTable, limit: number | null): TileStatement {
  const geometry = `g.${quoteIdent(layer.geometryColumn)}`;
  const fid = layer.columns.find((column) => column.name === LAYER_FID_COLUMN && ['int4', 'int8', 'int2'].includes(column.udtName));
  const attributes = layer.columns.filter((column) => column.name !== layer.geometryColumn && !NON_ATTRIBUTE_TYPES.has(column.udtName));
  const mercator = layer.srid === WEB_MERCATOR ? geometry : `ST_Transform(${geometry}, ${WEB_MERCATOR})`;
  const predicate = layer.srid === WEB_MERCATOR ? `${geometry} IS NOT NULL` : webMercatorPredicate(geometry);
  const select = attributes.map((column) => `g.${quoteIdent(column.name)}`).join(', ');
  const text = `SELECT ST_AsMVT(tile, $4, 4096, 'mvt_geometry'${fid ? `, ${quoteLiteral(fid.name)}` : ''}) AS mvt FROM (
         SELECT ST_AsMVTGeom(${mercator}, ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS mvt_geometry${select ? `, ${select}` : ''}
           FROM ${LAYERS_SCHEMA}.${quoteIdent(layer.layerId)} g
          WHERE ${predicate} AND ${mercator} && ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096)
          ${limit === null ? '' : `LIMIT ${Math.floor(limit)}`}
       ) tile WHERE tile.mvt_geometry IS NOT NULL`;
  return { name: `geojobs_tile_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`, text };
}

export const tileValues = (layer: LayerTable, z: number, x: number, y: number): [number, number, number, string] => [z, x, y, layer.layerId];

/** Most tile statements one connection keeps prepared (each holds its plan in that PostgreSQL backend's memory). */
const STATEMENTS_PER_CONNECTION = 100;

/** The tile statement of each layer and limit (built once per layer lookup), and which connections prepared which. */
export class TileStatements {
  private readonly byLayer = new WeakMap<LayerTable, Map<number | null, TileStatement>>();
  private readonly prepared = new WeakMap<PoolClient, Set<string>>();

  of(layer: LayerTable, limit: number | null): TileStatement {
    let statements = this.byLayer.get(layer);
    if (!statements) this.byLayer.set(layer, (statements = new Map<number | null, TileStatement>()));
    let statement = statements.get(limit);
    if (!statement) statements.set(limit, (statement = tileStatement(layer, limit)));
    return statement;
  }

  /** Notes that `client` is about to prepare `name` (pg does it on first use); true once it holds its share. */
  prepare(client: PoolClient, name: string): boolean {
    let names = this.prepared.get(client);
    if (!names) this.prepared.set(client, (names = new Set()));
    names.add(name);
    return names.size >= STATEMENTS_PER_CONNECTION;
  }
}

const quoteLiteral = (text: string): string => `'${text.replace(/'/g, "''")}'`;
