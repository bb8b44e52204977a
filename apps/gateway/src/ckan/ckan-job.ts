import type { JobRow } from '../job-model/job.model.js';

/** The job dict of CKAN's service-provider protocol (ckan-service-provider), as its clients read it. */
export interface CkanJobDict {
  job_id: string;
  job_type: string;
  status: 'pending' | 'complete' | 'error';
  data: Record<string, unknown> | null;
  error: { message: string } | null;
  requested_timestamp: string;
  finished_timestamp: string | null;
  metadata: Record<string, unknown>;
  result_url: string | null;
  logs: { timestamp: string; level: 'INFO' | 'ERROR'; message: string }[];
}

const STATUS: Record<JobRow['state'], CkanJobDict['status']> = {
  queued: 'pending',
  running: 'pending',
  succeeded: 'complete',
  failed: 'error',
  cancelled: 'error',
  expired: 'error',
};

const iso = (value: Date | null) => (value ? new Date(value).toISOString() : null);

export function toCkanJobDict(row: JobRow): CkanJobDict {
  const ckan = row.ckan!;
  const logs: CkanJobDict['logs'] = [{ timestamp: iso(row.created_at)!, level: 'INFO', message: `${ckan.jobType} job submitted` }];
  if (row.started_at) logs.push({ timestamp: iso(row.started_at)!, level: 'INFO', message: 'job started' });
  if (row.progress_message) logs.push({ timestamp: iso(row.started_at ?? row.created_at)!, level: 'INFO', message: row.progress_message });
  if (row.finished_at) {
    logs.push({
      timestamp: iso(row.finished_at)!,
      level: row.state === 'succeeded' ? 'INFO' : 'ERROR',
      message: row.state === 'succeeded' ? 'job complete' : `job ${row.state}${row.error ? `: ${row.error.message}` : ''}`,
    });
  }
  if (ckan.callback) logs.push({ timestamp: ckan.callback.at, level: ckan.callback.level, message: ckan.callback.message });
  return {
    job_id: row.id,
    job_type: ckan.jobType,
    status: STATUS[row.state],
    data: row.result,
    error: row.state === 'succeeded' || !row.finished_at ? null : { message: row.error?.message ?? `job ${row.state}` },
    requested_timestamp: iso(row.created_at)!,
    finished_timestamp: iso(row.finished_at),
    metadata: ckan.metadata,
    result_url: ckan.resultUrl,
    logs,
  };
}
