import { Body, Controller, Inject, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/principal.js';
import { CreateExportDto } from './dto/create-export.dto.js';
import { ExportsService } from './exports.service.js';

@ApiTags('exports')
@ApiBearerAuth()
@Controller('exports')
export class ExportsController {
  constructor(@Inject(ExportsService) private readonly exports: ExportsService) {}

  /** 202 with the export job (200 with the running one for a duplicate); its result names the ZIP and a `downloadUrl`. */
  @Post()
  @ApiBody({ type: CreateExportDto })
  async create(@CurrentPrincipal() principal: Principal, @Body() body: unknown, @Res({ passthrough: true }) response: Response) {
    const { job, created } = await this.exports.submit(principal, body);
    response.status(created ? 202 : 200);
    return job;
  }
}
