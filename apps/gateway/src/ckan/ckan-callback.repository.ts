import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { JobRow } from '../job-model/job.model.js';

export type CkanCallbackRecord = NonNullable<NonNullable<JobRow['ckan']>['callback']>;

/** The outcome of a job's last callback to its result_url, kept in the job's CKAN data for `GET /job/:id`. */
@Injectable()
export class CkanCallbackRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async record(jobId: string, level: CkanCallbackRecord['level'], message: string): Promise<void> {
    const callback: CkanCallbackRecord = { at: new Date().toISOString(), level, message };
    await this.db.query(`UPDATE jobs.jobs SET ckan = jsonb_set(ckan, '{callback}', $2::jsonb) WHERE id = $1 AND ckan IS NOT NULL`, [
      jobId,
      JSON.stringify(callback),
    ]);
  }
}
