import { Controller, Get, Inject, Param, Req, Res, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { NoRateLimit, Public } from '../auth/auth.decorators.js';
import { TilesAccessGuard } from './tiles-access.guard.js';
import { MVT_CONTENT_TYPE, TILE_ROUTES, tileAddress, TilesRoute, writeTileAnswer } from './tiles.route.js';

/**
 * Vector tiles of previewed layers, at geojobs' path and at the path HDX's map preview loads them from. Public tiles
 * at these paths' plain spellings are mostly answered by TilesRoute before they reach Express; what it leaves comes
 * here, and gets the same answer (a failure it met, that same failure).
 */
@ApiTags('layers')
@Public()
@NoRateLimit()
@UseGuards(TilesAccessGuard)
@Controller()
export class TilesController {
  constructor(@Inject(TilesRoute) private readonly route: TilesRoute) {}

  @Get(TILE_ROUTES.native)
  @ApiOperation({ summary: 'a Mapbox Vector Tile of the layer (EPSG:3857, extent 4096); public unless GEOJOBS_PUBLIC_TILES=false' })
  @ApiProduces(MVT_CONTENT_TYPE)
  async tile(@Param('id') id: string, @Param('z') z: string, @Param('x') x: string, @Param('y') y: string, @Req() request: Request, @Res() response: Response) {
    writeTileAnswer(response, await this.route.answer(request, id, undefined, tileAddress(z, x, y)));
  }

  /** HDX's map preview: `/gis/services/postgis/<layer>/wkb_geometry/vector-tiles/{z}/{x}/{y}.pbf`. */
  @Get(TILE_ROUTES.hdx)
  @ApiOperation({ summary: 'the same tile at the path HDX map previews use' })
  @ApiProduces(MVT_CONTENT_TYPE)
  async hdxTile(
    @Param('id') id: string,
    @Param('column') column: string,
    @Param('z') z: string,
    @Param('x') x: string,
    @Param('y') y: string,
    @Req() request: Request,
    @Res() response: Response,
  ) {
    writeTileAnswer(response, await this.route.answer(request, id, column, tileAddress(z, x, y)));
  }
}
