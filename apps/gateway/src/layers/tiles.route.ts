import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import type { AheadRoute } from '#shared';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { httpRequestTimer } from '../metrics/metrics.module.js';
import { tilesArePublic } from './tiles-access.guard.js';
import { MAX_ZOOM, TilesService } from './tiles.service.js';

export const MVT_CONTENT_TYPE = 'application/vnd.mapbox-vector-tile';

/** The two tile routes, as Express knows them (their label in the HTTP metrics). */
export const TILE_ROUTES = {
  native: '/layers/:id/tiles/:z/:x/:y.mvt',
  hdx: '/gis/services/postgis/:id/:column/vector-tiles/:z/:x/:y.pbf',
} as const;

/** Those routes' plain spellings, with nothing Express would read differently (no query, no escapes, no trailing slash). */
const NATIVE_PATH = /^\/layers\/([a-z0-9_]+)\/tiles\/(\d{1,8})\/(\d{1,8})\/(\d{1,8})\.mvt$/;
const HDX_PATH = /^\/gis\/services\/postgis\/([a-z0-9_]+)\/([a-z0-9_]+)\/vector-tiles\/(\d{1,8})\/(\d{1,8})\/(\d{1,8})\.pbf$/;

export interface TileAddress {
  z: number;
  x: number;
  y: number;
}

/** z/x/y as integers within the tile grid, or 400. */
export function tileAddress(z: string, x: string, y: string): TileAddress {
  const [zoom, column, row] = [z, x, y].map((part) => (/^\d{1,8}$/.test(part) ? Number(part) : NaN));
  if (!Number.isInteger(zoom) || zoom > MAX_ZOOM) throw new BadRequestException(`zoom must be an integer from 0 to ${MAX_ZOOM}`);
  const size = 2 ** zoom;
  if (!Number.isInteger(column) || !Number.isInteger(row) || column >= size || row >= size) {
    throw new BadRequestException(`x and y must be integers from 0 to ${size - 1} at zoom ${zoom}`);
  }
  return { z: zoom, x: column, y: row };
}

/** A tile request's answer: the tile, or 304 when If-None-Match holds its ETag. */
export interface TileAnswer {
  status: 200 | 304;
  headers: OutgoingHttpHeaders;
  body?: Buffer;
}

/** If-None-Match holds this ETag (or `*`). */
const matches = (header: string, etag: string): boolean => header.split(',').some((tag) => ['*', etag, `W/${etag}`].includes(tag.trim()));

export const writeTileAnswer = (response: ServerResponse, answer: TileAnswer): void => {
  response.writeHead(answer.status, answer.headers).end(answer.body);
};

/**
 * Tile answers, for TilesController and ahead of Express. Public tiles are the gateway's hottest requests (a map
 * asks for dozens at a time) and need nothing of the framework's pipeline, so the plain spellings of both tile paths
 * are answered on the HTTP server before Express routes them (see `AheadRoute`), with the same request context and
 * HTTP metrics. Everything else goes on to TilesController, which answers it as always: tiles that need a credential
 * (GEOJOBS_PUBLIC_TILES=false), other spellings, and any request not answered here with 200 or 304 (a bad address,
 * an unknown layer, a failure), which the controller answers (400, 404, 500) and logs. What failed here is handed on
 * with the request, so the controller answers that failure rather than run the tile's queries a second time.
 */
@Injectable()
export class TilesRoute implements AheadRoute {
  /** What every tile answer says besides its ETag, fixed by the configuration. */
  private readonly headers: OutgoingHttpHeaders;
  private readonly public: boolean;
  /** Why `answer` failed for a request handed on to TilesController, which then answers with it. */
  private readonly failures = new WeakMap<IncomingMessage, unknown>();

  constructor(
    @Inject(TilesService) private readonly tiles: TilesService,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.public = tilesArePublic(config);
    this.headers = {
      'cache-control': `${this.public ? 'public' : 'private'}, max-age=${config.GEOJOBS_TILE_MAX_AGE_SECONDS}`,
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'ETag',
      vary: this.public ? 'Accept-Encoding' : 'Authorization',
    };
  }

  /**
   * The tile z/x/y of a layer (the layer's geometry column, when given, must be `geometryColumn`) as `request` asks
   * for it (If-None-Match); for a request handed on after it failed ahead of Express, that failure again.
   */
  async answer(request: IncomingMessage, layerId: string, geometryColumn: string | undefined, at: TileAddress): Promise<TileAnswer> {
    if (this.failures.has(request)) throw this.failures.get(request);
    const ifNoneMatch = request.headers['if-none-match'];
    if (ifNoneMatch) {
      const etag = await this.tiles.etag(layerId, at.z, at.x, at.y, geometryColumn);
      if (matches(ifNoneMatch, etag)) return { status: 304, headers: { ...this.headers, etag } };
    }
    const tile = await this.tiles.tile(layerId, at.z, at.x, at.y, geometryColumn);
    return {
      status: 200,
      headers: { ...this.headers, etag: tile.etag, 'content-type': MVT_CONTENT_TYPE, 'content-length': tile.body.length },
      body: tile.body,
    };
  }

  claims(request: IncomingMessage): boolean {
    return this.public && request.method === 'GET' && (NATIVE_PATH.test(request.url!) || HDX_PATH.test(request.url!));
  }

  handle(request: IncomingMessage, response: ServerResponse, next: () => void): void {
    const done = httpRequestTimer(request.method);
    const native = NATIVE_PATH.exec(request.url!);
    const [layerId, geometryColumn, z, x, y] = native ? [native[1], undefined, native[2], native[3], native[4]] : HDX_PATH.exec(request.url!)!.slice(1);
    let at: TileAddress;
    try {
      at = tileAddress(z, x, y);
    } catch {
      return next();
    }
    this.answer(request, layerId, geometryColumn, at)
      .then(
        (answer) => {
          response.once('finish', () => done(native ? TILE_ROUTES.native : TILE_ROUTES.hdx, response.statusCode));
          writeTileAnswer(response, answer);
        },
        (error: unknown) => {
          this.failures.set(request, error);
          next();
        },
      )
      .catch((error: Error) => response.destroy(error));
  }
}
