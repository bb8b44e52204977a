import { Body, Controller, Inject, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/principal.js';
import { CreateGeopreviewDto } from './dto/geopreview.dto.js';
import { GeopreviewService } from './geopreview.service.js';

@ApiTags('geopreview')
@ApiBearerAuth()
@Controller('geopreview')
export class GeopreviewController {
  constructor(@Inject(GeopreviewService) private readonly geopreview: GeopreviewService) {}

  /** 202 with the `geo.preview` job (200 with the running one for a duplicate); `callbackUrl` gets the finished job. */
  @Post()
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreateGeopreviewDto, @Res({ passthrough: true }) response: Response) {
    const { callbackUrl, ...request } = body;
    const { job, created } = await this.geopreview.submit(principal, { ...request, ...(callbackUrl ? { notify: { callbackUrl } } : {}) });
    response.status(created ? 202 : 200);
    return job;
  }
}
