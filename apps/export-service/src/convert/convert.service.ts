import { Injectable } from '@nestjs/common';
import { JobFailure, type Envelope, type ExportConvertV1, type JobContext, type JobOutcome } from '#shared';

/** `export.convert`: a database file to a ZIP of CSVs, one per table. */
@Injectable()
export class ConvertService {
  async run(_command: Envelope<ExportConvertV1>, _job: JobContext): Promise<JobOutcome> {
    throw new JobFailure({ type: 'export', class: 'NotBuilt', message: 'export.convert is not built yet' });
  }
}
