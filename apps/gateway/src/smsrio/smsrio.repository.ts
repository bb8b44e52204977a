import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { JobState } from '../job-model/job.model.js';

export interface RunningExport {
  id: string;
  owner: string;
  uri: string | null;
}

/** The export jobs `/list/` and `/clear/` need to know about, read from the jobs table the gateway owns. */
@Injectable()
export class SmsRioRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** `export.convert` jobs running now, oldest first. */
  runningExports(): Promise<RunningExport[]> {
    return this.db.query(`SELECT id, owner, input->>'uri' AS uri FROM jobs.jobs WHERE type = 'export.convert' AND state = 'running' ORDER BY started_at, id`);
  }

  /** State and owner of each of these jobs that exists. */
  async jobs(ids: string[]): Promise<Map<string, { state: JobState; owner: string }>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.query<{ id: string; state: JobState; owner: string }[]>('SELECT id, state, owner FROM jobs.jobs WHERE id = ANY($1::uuid[])', [
      ids,
    ]);
    return new Map(rows.map((row) => [row.id, { state: row.state, owner: row.owner }]));
  }
}
