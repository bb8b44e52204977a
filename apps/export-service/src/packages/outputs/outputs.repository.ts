import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** One output of a processor for a boundary: where it is, and which processor version made it. */
export interface OutputKey {
  boundary: string;
  processor: string;
  version: string;
}

/** A file of an output, as stored and as datapackage.json lists it. */
export interface OutputFile {
  /** The storage key: `packages/<boundary>/<processor>/<version>/<name>`. */
  path: string;
  name: string;
  format: string;
  mediatype: string;
  bytes: number;
  /** `sha256:<hex>` of the bytes, as Data Package v2 writes a hash. */
  hash: string;
}

export interface OutputRow {
  boundary: string;
  processor: string;
  version: string;
  state: 'running' | 'succeeded' | 'failed';
  job_id: string;
  files: OutputFile[];
  source: string | null;
  error: { message: string } | null;
  started_at: Date;
  finished_at: Date | null;
}

/** What claiming an output came to: this job makes it, or it is there already, or another job is making it. */
export type Claim = { outcome: 'claimed' } | { outcome: 'exists'; row: OutputRow } | { outcome: 'running'; row: OutputRow };

/**
 * packages.outputs: one row per (boundary, processor, version), the database's decision of who makes an output.
 * `claim` is one INSERT … ON CONFLICT statement, atomic under any number of concurrent requests (see the migration).
 */
@Injectable()
export class OutputsRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /**
   * Claims the output for `jobId`. An existing row is taken over only when its run failed, when it is this job's own
   * run (a redelivered command), or when its heartbeat is older than `staleSeconds` (the service running it died).
   */
  async claim(key: OutputKey, jobId: string, staleSeconds: number): Promise<Claim> {
    const claimed = await this.db.query<unknown[]>(
      `INSERT INTO packages.outputs AS o (boundary, processor, version, state, job_id)
       VALUES ($1, $2, $3, 'running', $4)
       ON CONFLICT (boundary, processor, version) DO UPDATE
         SET state = 'running', job_id = EXCLUDED.job_id, files = '[]', source = NULL, error = NULL,
             started_at = now(), heartbeat_at = now(), finished_at = NULL
         WHERE o.state = 'failed'
            OR (o.state = 'running' AND (o.job_id = EXCLUDED.job_id OR o.heartbeat_at < now() - make_interval(secs => $5)))
       RETURNING 1`,
      [key.boundary, key.processor, key.version, jobId, staleSeconds],
    );
    if (claimed.length > 0) return { outcome: 'claimed' };
    const row = await this.find(key);
    // gone or failed since the INSERT looked: it was being made a moment ago, which is all this request can say
    if (!row || row.state !== 'succeeded') return { outcome: 'running', row: row! };
    return { outcome: 'exists', row };
  }

  async find(key: OutputKey): Promise<OutputRow | undefined> {
    const [row] = await this.db.query<OutputRow[]>('SELECT * FROM packages.outputs WHERE boundary = $1 AND processor = $2 AND version = $3', [
      key.boundary,
      key.processor,
      key.version,
    ]);
    return row;
  }

  /** The run is alive: keeps others from taking the output over as abandoned. */
  async heartbeat(key: OutputKey, jobId: string): Promise<void> {
    await this.db.query(
      `UPDATE packages.outputs SET heartbeat_at = now() WHERE boundary = $1 AND processor = $2 AND version = $3 AND job_id = $4 AND state = 'running'`,
      [key.boundary, key.processor, key.version, jobId],
    );
  }

  /** Ends this job's run; a run taken over in the meantime (as abandoned) is not touched. Returns whether it was still this job's. */
  async finish(
    key: OutputKey,
    jobId: string,
    outcome: { state: 'succeeded'; files: OutputFile[]; source: string } | { state: 'failed'; message: string },
  ): Promise<boolean> {
    const rows = await this.db.query<unknown[]>(
      `UPDATE packages.outputs SET state = $5, files = $6::jsonb, source = $7, error = $8::jsonb, finished_at = now()
       WHERE boundary = $1 AND processor = $2 AND version = $3 AND job_id = $4 AND state = 'running' RETURNING 1`,
      [
        key.boundary,
        key.processor,
        key.version,
        jobId,
        outcome.state,
        JSON.stringify(outcome.state === 'succeeded' ? outcome.files : []),
        outcome.state === 'succeeded' ? outcome.source : null,
        outcome.state === 'failed' ? JSON.stringify({ message: outcome.message }) : null,
      ],
    );
    return rows.length > 0;
  }

  /** The boundary's finished outputs, processor by processor, the newest version last. */
  async succeeded(boundary: string): Promise<OutputRow[]> {
    return await this.db.query<OutputRow[]>(`SELECT * FROM packages.outputs WHERE boundary = $1 AND state = 'succeeded' ORDER BY processor, version`, [
      boundary,
    ]);
  }
}
