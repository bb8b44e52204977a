import { Injectable } from '@nestjs/common';
import { JobFailure, type Envelope, type ExportLayersV1, type JobContext, type JobOutcome } from '#shared';

/** `export.layers`: previewed layers as one ZIP (CSV, Shapefile, GeoPackage, GeoJSON and a README). */
@Injectable()
export class LayersExportService {
  async run(_command: Envelope<ExportLayersV1>, _job: JobContext): Promise<JobOutcome> {
    throw new JobFailure({ type: 'export', class: 'NotBuilt', message: 'export.layers is not built yet' });
  }
}
