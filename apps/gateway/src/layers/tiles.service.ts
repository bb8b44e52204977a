import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { LruCache } from './lru-cache.js';
import { LayersRepository, type LayerTable } from './layers.repository.js';

/** Changes when the way tiles are cut changes, so clients do not keep tiles of the old way. */
const TILE_FORMAT = 1;
/** A known layer's table is checked again after this long (a re-import swaps in a new table with a new OID). */
const LAYER_TTL_MS = 1_000;
/** PostgreSQL's undefined_table and undefined_column: the table went or changed since it was looked up. */
const STALE_LAYER_CODES = new Set(['42P01', '42703']);
/** From this zoom on, a tile holds every feature in it. */
const FULL_DETAIL_ZOOM = 12;
export const MAX_ZOOM = 24;

export interface Tile {
  /** Empty when no feature of the layer is in the tile. */
  body: Buffer;
  etag: string;
}

/** Tiles z/x/y of a layer, with a strong ETag (the layer table's OID and the address) and an LRU of recent tiles. */
@Injectable()
export class TilesService {
  private readonly cache: LruCache<Buffer>;
  private readonly layers = new Map<string, { layer: LayerTable | undefined; at: number }>();

  constructor(
    @Inject(LayersRepository) private readonly repository: LayersRepository,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.cache = new LruCache(config.GEOJOBS_TILE_CACHE_BYTES);
  }

  /** The tile's ETag alone (for If-None-Match), without cutting the tile. */
  async etag(layerId: string, z: number, x: number, y: number, geometryColumn?: string): Promise<string> {
    const layer = await this.layer(layerId, geometryColumn);
    return etagOf(layer, z, x, y);
  }

  async tile(layerId: string, z: number, x: number, y: number, geometryColumn?: string): Promise<Tile> {
    try {
      return await this.cut(await this.layer(layerId, geometryColumn), z, x, y);
    } catch (error) {
      if (!isStaleLayer(error)) throw error;
      // dropped or re-imported since it was last checked: look again at once rather than fail until the next check
      this.layers.delete(layerId);
      return this.cut(await this.layer(layerId, geometryColumn), z, x, y);
    }
  }

  private async cut(layer: LayerTable, z: number, x: number, y: number): Promise<Tile> {
    const etag = etagOf(layer, z, x, y);
    const cached = this.cache.get(etag);
    if (cached) return { body: cached, etag };
    const limit = z < FULL_DETAIL_ZOOM && this.config.GEOJOBS_TILE_MAX_FEATURES > 0 ? this.config.GEOJOBS_TILE_MAX_FEATURES : null;
    const body = await this.repository.tile(layer, z, x, y, limit);
    this.cache.set(etag, body, body.length + 200);
    return { body, etag };
  }

  private async layer(layerId: string, geometryColumn: string | undefined): Promise<LayerTable> {
    const now = Date.now();
    let known = this.layers.get(layerId);
    if (!known || now - known.at > LAYER_TTL_MS) {
      // an unchanged table (same OID) keeps its description, and with it its prepared tile statements; only a new
      // one is described again (information_schema and geometry_columns are slow views)
      const previous = known?.layer;
      const layer = previous && (await this.repository.oid(layerId)) === previous.oid ? previous : await this.repository.find(layerId);
      known = { layer, at: now };
      if (this.layers.size > 10_000) this.layers.clear();
      this.layers.set(layerId, known);
    }
    if (!known.layer || (geometryColumn !== undefined && geometryColumn !== known.layer.geometryColumn)) {
      throw new NotFoundException(`no layer ${layerId}${geometryColumn ? ` with a geometry column ${geometryColumn}` : ''}`);
    }
    return known.layer;
  }
}

const isStaleLayer = (error: unknown): boolean =>
  error instanceof Error && 'code' in error && typeof error.code === 'string' && STALE_LAYER_CODES.has(error.code);

const etagOf = (layer: LayerTable, z: number, x: number, y: number): string => `"${layer.layerId}.${layer.oid}.${TILE_FORMAT}.${z}.${x}.${y}"`;
