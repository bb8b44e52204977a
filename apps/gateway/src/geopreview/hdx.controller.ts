import { Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, KeyInQuery, Roles } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/principal.js';
import { LayersService } from '../layers/layers.service.js';
import { HdxAddLayerQuery } from './dto/geopreview.dto.js';
import { GeopreviewService } from './geopreview.service.js';

/** HDX's job processor wrote `None` (Python's) for what it did not know yet. */
const NONE = 'None';

export interface HdxLayerAnswer {
  state: 'processing' | 'success' | 'failure';
  message: string;
  layer_id: string;
  error_type: string;
  error_class: string;
  job_id?: string;
}

/**
 * HDX CKAN's geopreview endpoints, called from URL templates in the portal's configuration with the portal key as
 * `?key=`. They answer at once in HDX's shape; the import's outcome reaches the portal later, from geo-service,
 * as `shape_info` on its resource (see apps/geo-service/src/geopreview/notify.service.ts).
 */
@ApiTags('hdx')
@ApiBearerAuth()
@KeyInQuery()
@Roles('admin', 'portal')
@Controller('api')
export class HdxController {
  constructor(
    @Inject(GeopreviewService) private readonly geopreview: GeopreviewService,
    @Inject(LayersService) private readonly layers: LayersService,
  ) {}

  @Get('add-layer/dataset/:datasetId/resource/:resourceId')
  async addLayer(
    @CurrentPrincipal() principal: Principal,
    @Param('datasetId') datasetId: string,
    @Param('resourceId') resourceId: string,
    @Query() query: HdxAddLayerQuery,
  ): Promise<HdxLayerAnswer> {
    const url = query.resource_download_url;
    if (!url || !/^https?:\/\/\S+$/i.test(url)) {
      return {
        state: 'failure',
        message: 'Url missing or has a problem',
        layer_id: NONE,
        error_type: 'transformation-init-problem',
        error_class: 'MissingUrlException',
      };
    }
    const { job } = await this.geopreview.submit(principal, { datasetId, resourceId, url, notify: { ckan: true } });
    return {
      state: 'processing',
      message: 'The processing of the geo-preview has started',
      layer_id: NONE,
      error_type: NONE,
      error_class: NONE,
      job_id: job.id,
    };
  }

  /** Drops every layer of the resource (geo-service does it); answers when done, or `processing` after the wait. */
  @Post('delete-one-layer/:resourceId')
  @HttpCode(200)
  async deleteOneLayer(@CurrentPrincipal() principal: Principal, @Param('resourceId') resourceId: string): Promise<HdxLayerAnswer & { deleted?: string[] }> {
    const { done, job } = await this.layers.delete(principal, { resourceId });
    if (!done) return { state: 'processing', message: 'The layer is being deleted', layer_id: NONE, error_type: NONE, error_class: NONE, job_id: job.id };
    if (job.state !== 'succeeded') {
      return {
        state: 'failure',
        message: job.error?.message ?? job.state,
        layer_id: NONE,
        error_type: job.error?.type ?? NONE,
        error_class: job.error?.class ?? NONE,
        job_id: job.id,
      };
    }
    const deleted = (job.result?.deleted as string[] | undefined) ?? [];
    return {
      state: 'success',
      message: deleted.length > 0 ? `Deleted ${deleted.join(', ')}` : 'The resource had no layer',
      layer_id: deleted[0] ?? NONE,
      error_type: NONE,
      error_class: NONE,
      job_id: job.id,
      deleted,
    };
  }
}
