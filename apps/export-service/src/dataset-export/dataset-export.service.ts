import { Injectable } from '@nestjs/common';
import { JobFailure, type Envelope, type ExportDatasetMergeV1, type ExportDatasetV1, type ExportResourceV1, type JobContext, type JobOutcome } from '#shared';

const notBuilt = () => new JobFailure({ type: 'export', class: 'NotBuilt', message: 'export.dataset is not built yet' });

/** `export.dataset`: a portal dataset's resources, one subtask each (`export.resource`), merged into a ZIP (`export.dataset.merge`). */
@Injectable()
export class DatasetExportService {
  async run(_command: Envelope<ExportDatasetV1>, _job: JobContext): Promise<JobOutcome> {
    throw notBuilt();
  }

  async resource(_command: Envelope<ExportResourceV1>, _job: JobContext): Promise<JobOutcome> {
    throw notBuilt();
  }

  async merge(_command: Envelope<ExportDatasetMergeV1>, _job: JobContext): Promise<JobOutcome> {
    throw notBuilt();
  }
}
