import { BadRequestException, Controller, Get, Inject, Param, Req, Res, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/auth.decorators.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { TilesAccessGuard, tilesArePublic } from './tiles-access.guard.js';
import { MAX_ZOOM, TilesService } from './tiles.service.js';

export const MVT_CONTENT_TYPE = 'application/vnd.mapbox-vector-tile';

/** z/x/y as integers within the tile grid, or 400. */
export function tileAddress(z: string, x: string, y: string): { z: number; x: number; y: number } {
  const [zoom, column, row] = [z, x, y].map((part) => (/^\d{1,8}$/.test(part) ? Number(part) : NaN));
  if (!Number.isInteger(zoom) || zoom > MAX_ZOOM) throw new BadRequestException(`zoom must be an integer from 0 to ${MAX_ZOOM}`);
  const size = 2 ** zoom;
  if (!Number.isInteger(column) || !Number.isInteger(row) || column >= size || row >= size) {
    throw new BadRequestException(`x and y must be integers from 0 to ${size - 1} at zoom ${zoom}`);
  }
  return { z: zoom, x: column, y: row };
}

/** If-None-Match holds this ETag (or `*`). */
const matches = (header: string | undefined, etag: string): boolean =>
  header !== undefined && header.split(',').some((tag) => ['*', etag, `W/${etag}`].includes(tag.trim()));

/** Vector tiles of previewed layers, at geojobs' path and at the path HDX's map preview loads them from. */
@ApiTags('layers')
@Public()
@UseGuards(TilesAccessGuard)
@Controller()
export class TilesController {
  /** What every tile answer says besides its ETag, fixed by the configuration. */
  private readonly headers: Record<string, string>;

  constructor(
    @Inject(TilesService) private readonly tiles: TilesService,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    const open = tilesArePublic(config);
    this.headers = {
      'cache-control': `${open ? 'public' : 'private'}, max-age=${config.GEOJOBS_TILE_MAX_AGE_SECONDS}`,
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'ETag',
      vary: open ? 'Accept-Encoding' : 'Authorization',
    };
  }

  @Get('layers/:id/tiles/:z/:x/:y.mvt')
  @ApiOperation({ summary: 'a Mapbox Vector Tile of the layer (EPSG:3857, extent 4096); public unless GEOJOBS_PUBLIC_TILES=false' })
  @ApiProduces(MVT_CONTENT_TYPE)
  tile(@Param('id') id: string, @Param('z') z: string, @Param('x') x: string, @Param('y') y: string, @Req() request: Request, @Res() response: Response) {
    return this.send(id, undefined, tileAddress(z, x, y), request, response);
  }

  /** HDX's map preview: `/gis/services/postgis/<layer>/wkb_geometry/vector-tiles/{z}/{x}/{y}.pbf`. */
  @Get('gis/services/postgis/:id/:column/vector-tiles/:z/:x/:y.pbf')
  @ApiOperation({ summary: 'the same tile at the path HDX map previews use' })
  @ApiProduces(MVT_CONTENT_TYPE)
  hdxTile(
    @Param('id') id: string,
    @Param('column') column: string,
    @Param('z') z: string,
    @Param('x') x: string,
    @Param('y') y: string,
    @Req() request: Request,
    @Res() response: Response,
  ) {
    return this.send(id, column, tileAddress(z, x, y), request, response);
  }

  private async send(id: string, column: string | undefined, at: { z: number; x: number; y: number }, request: Request, response: Response) {
    const ifNoneMatch = request.headers['if-none-match'];
    if (ifNoneMatch) {
      const etag = await this.tiles.etag(id, at.z, at.x, at.y, column);
      if (matches(ifNoneMatch, etag)) {
        response.writeHead(304, { ...this.headers, etag }).end();
        return;
      }
    }
    const tile = await this.tiles.tile(id, at.z, at.x, at.y, column);
    // node's writeHead rather than Express's set(), which looks every header up again (content types among them)
    response.writeHead(200, { ...this.headers, etag: tile.etag, 'content-type': MVT_CONTENT_TYPE, 'content-length': tile.body.length }).end(tile.body);
  }
}
