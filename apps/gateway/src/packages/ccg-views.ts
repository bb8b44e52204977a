import { PUBLIC_PROCESSORS, processorKey, type ProcessorManifest } from '#shared';
import { isFinal, type JobState } from '../job-model/job.model.js';
import type { PartRow } from './packages.repository.js';

/**
 * The JSON of irv-autopkg's API (api/schemas.py), which the native catalogue endpoints serve too: one shape for the
 * boundaries, processors and packages whichever path a client took.
 */

export interface ProcessorVersionMetadata {
  name: string;
  description: string;
  version: string;
  status?: string;
  uri?: string;
  data_author: string;
  data_title: string;
  data_title_long: string;
  data_summary: string;
  data_citation: string;
  data_license: { name: string; path: string; title: string };
  data_origin_url: string;
  data_formats: string[];
}

export interface ProcessorView {
  name: string;
  versions: ProcessorVersionMetadata[];
}

export const JOB_STATUSES = ['PENDING', 'EXECUTING', 'SUCCESS', 'FAILURE', 'RETRY', 'SKIPPED', 'REVOKED'] as const;
export type CcgJobStatus = (typeof JOB_STATUSES)[number];

export interface CcgJobStatusView {
  job_id: string;
  processor_name: string;
  job_status: CcgJobStatus;
  job_progress?: { percent_complete: number; current_task: string };
  job_result?: Record<string, unknown>;
}

export interface JobGroupStatus {
  job_group_status: 'PENDING' | 'COMPLETE';
  job_group_percent_complete: number;
  job_group_processors: CcgJobStatusView[];
}

export function processorVersionView(manifest: ProcessorManifest, extra: { status?: string; uri?: string } = {}): ProcessorVersionMetadata {
  return {
    name: processorKey(manifest),
    description: manifest.description,
    version: manifest.version,
    ...extra,
    data_author: manifest.author,
    data_title: manifest.title,
    data_title_long: manifest.titleLong,
    data_summary: manifest.summary,
    data_citation: manifest.citation,
    data_license: { ...manifest.license },
    data_origin_url: manifest.originUrl,
    data_formats: [...manifest.formats],
  };
}

/** The processors a request may name, grouped by name, each with its versions (`GET /processors`). */
export function processorViews(extra: { status?: string; uri?: string } = {}): ProcessorView[] {
  const names = [...new Set(PUBLIC_PROCESSORS.map((processor) => processor.name))];
  return names.map((name) => ({
    name,
    versions: PUBLIC_PROCESSORS.filter((processor) => processor.name === name).map((processor) => processorVersionView(processor, extra)),
  }));
}

/** A part's state as Celery named it: a part that found its output made or being made is SKIPPED, not SUCCESS. */
export function ccgStatus(state: JobState, result: Record<string, unknown> | null): CcgJobStatus {
  switch (state) {
    case 'queued':
      return 'PENDING';
    case 'running':
      return 'EXECUTING';
    case 'failed':
      return 'FAILURE';
    case 'cancelled':
      return 'REVOKED';
    default:
      return result && typeof result.skipped === 'string' ? 'SKIPPED' : 'SUCCESS';
  }
}

/**
 * `GET /v1/jobs/{job_id}` from the package job and its processor parts. Processors whose part does not exist yet
 * (the boundary setup still runs) are PENDING under the package job's id; the group is COMPLETE once the package job
 * is final (provenance written), and its percent counts the settled parts, as irv-autopkg counted its tasks.
 */
export function jobGroupStatus(job: { id: string; state: JobState; processors: string[] }, parts: PartRow[]): JobGroupStatus {
  const byProcessor = new Map(parts.map((part) => [part.input.processor ?? '', part]));
  const processors: CcgJobStatusView[] = job.processors.map((processor) => {
    const part = byProcessor.get(processor);
    if (!part) return { job_id: job.id, processor_name: processor, job_status: isFinal(job.state) ? 'REVOKED' : 'PENDING' };
    const status = ccgStatus(part.state, part.result);
    if (!isFinal(part.state)) {
      const percent = part.progress_total > 0 ? Math.round((100 * part.progress_current) / part.progress_total) : 0;
      return {
        job_id: part.id,
        processor_name: processor,
        job_status: status,
        job_progress: { percent_complete: percent, current_task: part.progress_message || 'UNKNOWN' },
      };
    }
    const result = part.state === 'failed' || part.state === 'cancelled' ? { failed: part.error?.message ?? part.state } : (part.result ?? {});
    return { job_id: part.id, processor_name: processor, job_status: status, job_result: result };
  });
  const settled = processors.filter((processor) => !['PENDING', 'EXECUTING', 'RETRY'].includes(processor.job_status)).length;
  return {
    job_group_status: isFinal(job.state) ? 'COMPLETE' : 'PENDING',
    job_group_percent_complete: processors.length > 0 ? Math.round((100 * settled) / processors.length) : 0,
    job_group_processors: processors,
  };
}
