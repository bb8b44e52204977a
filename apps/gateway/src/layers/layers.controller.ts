import { Controller, Delete, Get, Inject, Param, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Roles } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/principal.js';
import { LayersService } from './layers.service.js';

@ApiTags('layers')
@ApiBearerAuth()
@Controller('layers')
export class LayersController {
  constructor(@Inject(LayersService) private readonly layers: LayersService) {}

  /** The layer's description, read from PostGIS: bounding box, fields, feature count, geometry type, SRID. */
  @Get(':id')
  describe(@Param('id') id: string) {
    return this.layers.describe(id);
  }

  /**
   * Drops the layer (geo-service does it, as a `geo.layer.delete` job). 200 with the finished job when it ended
   * within GEOJOBS_LAYER_DELETE_WAIT_MS, else 202 with the job still running.
   */
  @Delete(':id')
  @Roles('admin', 'portal')
  async delete(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Res({ passthrough: true }) response: Response) {
    const { done, job } = await this.layers.delete(principal, { layerId: id });
    response.status(done ? 200 : 202);
    return job;
  }
}
