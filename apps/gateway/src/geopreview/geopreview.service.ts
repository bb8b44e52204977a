import { Inject, Injectable } from '@nestjs/common';
import type { GeoPreviewNotify } from '#shared';
import type { Principal } from '../auth/principal.js';
import { JobsService, type Submitted } from '../jobs/jobs.service.js';
import type { CreateGeopreviewDto } from './dto/geopreview.dto.js';

export interface PreviewRequest extends Omit<CreateGeopreviewDto, 'callbackUrl'> {
  notify?: GeoPreviewNotify;
}

/** Geopreviews are `geo.preview` jobs; geo-service runs them and sends the callbacks (its Notify step). */
@Injectable()
export class GeopreviewService {
  constructor(@Inject(JobsService) private readonly jobs: JobsService) {}

  async submit(principal: Principal, request: PreviewRequest): Promise<Submitted> {
    const input = { ...request, ...(request.notify ? { notify: { ...request.notify } } : {}) };
    const [submitted] = await this.jobs.submit(principal, [{ type: 'geo.preview', input }], '');
    return submitted;
  }
}
