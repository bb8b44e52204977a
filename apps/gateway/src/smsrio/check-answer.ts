import type { JobView } from '../job-model/job.model.js';

/** Celery's task states, as SMS-Rio's `GET /check/{id}` reported them. */
export type CeleryState = 'PENDING' | 'PROGRESS' | 'SUCCESS' | 'FAILURE' | 'REVOKED';

/** While running: what `self.update_state(state="PROGRESS", meta=…)` put there. */
export interface ProgressResult {
  status: string;
  current: number;
  total: number;
}

export interface SuccessResult {
  success: true;
  /** Where the ZIP is: the `gs://…`/`s3://…` URI beside the input, or where `output` asked; else its storage URI. */
  output: string | null;
  /** The export's other result fields (files, tables, rows, downloadUrl …), for clients that want more. */
  [more: string]: unknown;
}

/**
 * A failure: SMS-Rio's `{success: false, error}`, plus the fields Celery's result backend stored for a failed task
 * (`exc_type`, `exc_message`, `exc_module`), which the original's `/check/` passed through.
 */
export interface FailureResult {
  success: false;
  error: string;
  exc_type: string;
  exc_message: string[];
  exc_module: string;
}

export interface CheckAnswer {
  status: CeleryState;
  result: ProgressResult | SuccessResult | FailureResult | null;
  task_id: string;
  /** Finished tasks: when, as Celery's backend stored it (ISO 8601). */
  date_done?: string;
}

/** What `/check/` shows before the export's first progress report. */
export const STARTING = 'Starting…';

/**
 * A geojobs job as SMS-Rio's `GET /check/{id}` answered for its Celery task: queued → PENDING (result null, as Celery
 * shows a task no worker took yet), running → PROGRESS with `{status, current, total}`, succeeded → SUCCESS with
 * `{success: true, output}`, failed → FAILURE with `{success: false, error}`, cancelled → REVOKED (Celery's state of a
 * revoked task). An expired job succeeded, and its output beside the input is still there: SUCCESS.
 */
export function checkAnswer(job: JobView): CheckAnswer {
  const task_id = job.id;
  const done = job.finishedAt ? { date_done: job.finishedAt } : {};
  switch (job.state) {
    case 'queued':
      return { status: 'PENDING', result: null, task_id };
    case 'running':
      return {
        status: 'PROGRESS',
        result: { status: job.progress.message || STARTING, current: job.progress.current, total: job.progress.total },
        task_id,
      };
    case 'succeeded':
    case 'expired': {
      const result = job.result ?? {};
      const output = typeof result.output === 'string' ? result.output : typeof result.file === 'string' ? `storage://${result.file}` : null;
      return { status: 'SUCCESS', result: { ...result, success: true, output }, task_id, ...done };
    }
    case 'failed':
      return { status: 'FAILURE', result: failure(job.error?.message ?? 'the export failed', job.error?.class, job.error?.type), task_id, ...done };
    case 'cancelled':
      return { status: 'REVOKED', result: failure('the export was cancelled', 'TaskRevokedError', 'celery.exceptions'), task_id, ...done };
  }
}

function failure(error: string, type = 'TaskFailure', module = 'geojobs'): FailureResult {
  return { success: false, error, exc_type: type, exc_message: [error], exc_module: module };
}
