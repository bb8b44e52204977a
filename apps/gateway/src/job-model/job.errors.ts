import { ConflictError, GoneError, InvalidRequestError, LimitReachedError, NotFoundError } from '../common/domain-error.js';

/** What an owner whose queue is full is told to wait: jobs take seconds to minutes, so sooner would mostly be refused again. */
export const QUEUE_FULL_RETRY_AFTER_SECONDS = 30;

/** A job names a type the gateway does not take (or one it only creates itself). */
export class UnknownJobTypeError extends InvalidRequestError {
  readonly code = 'JOB.UNKNOWN_TYPE';
}

/** A request's jobs, with everything they fan out to, declare more subtasks than one request may. */
export class TooManySubtasksError extends InvalidRequestError {
  readonly code = 'JOB.TOO_MANY_SUBTASKS';
}

/** An array of jobs holds none, or more than one request may. */
export class JobBatchSizeError extends InvalidRequestError {
  readonly code = 'JOB.BATCH_SIZE';
}

/** No such job, or one the caller may not see: the same answer, so that others' job ids cannot be probed. */
export class JobNotFoundError extends NotFoundError {
  readonly code = 'JOB.NOT_FOUND';

  constructor(readonly jobId: string) {
    super(`no job ${jobId}`);
  }
}

/** The job names no result file (yet, or a valid one), or the file is gone from storage. */
export class ResultFileNotFoundError extends NotFoundError {
  readonly code = 'JOB.RESULT_FILE_NOT_FOUND';
}

/** Cancelling a job that has already reached its outcome. */
export class JobAlreadyFinishedError extends ConflictError {
  readonly code = 'JOB.ALREADY_FINISHED';

  constructor(
    readonly jobId: string,
    readonly state: string,
  ) {
    super(`job ${jobId} has already ${state}`);
  }
}

/** Retrying a job that is not a finished top-level job that failed or was cancelled. */
export class JobNotRetryableError extends ConflictError {
  readonly code = 'JOB.NOT_RETRYABLE';

  constructor(
    readonly jobId: string,
    reason: string,
  ) {
    super(`job ${jobId} cannot be retried: ${reason}`);
  }
}

/** A submission kept meeting duplicates that finished as it looked them up: the caller may simply try again. */
export class SubmissionContendedError extends ConflictError {
  readonly code = 'JOB.SUBMISSION_CONTENDED';

  constructor() {
    super('the job kept colliding with jobs finishing at the same moment; try again');
  }
}

/** A job names layers that are not (or no longer) previewed. */
export class UnknownLayersError extends InvalidRequestError {
  readonly code = 'JOB.UNKNOWN_LAYERS';
}

/** A package names boundaries that are not loaded. */
export class UnknownBoundariesError extends InvalidRequestError {
  readonly code = 'JOB.UNKNOWN_BOUNDARIES';
}

/** The job's result file was removed at the end of its retention period (the job is `expired`). */
export class ResultExpiredError extends GoneError {
  readonly code = 'JOB.RESULT_EXPIRED';

  constructor(
    readonly jobId: string,
    readonly expiredAt: Date | null,
  ) {
    super(`the result file of job ${jobId} expired${expiredAt ? ` at ${expiredAt.toISOString()}` : ''} and was removed; submit the job again for a new one`);
  }
}

/**
 * A submission would take its owner past GEOJOBS_MAX_QUEUED_PER_OWNER unfinished jobs: nothing of it was written.
 * The owner may submit again once some of its jobs have finished.
 */
export class QueueFullError extends LimitReachedError {
  readonly code = 'JOB.QUEUE_FULL';

  constructor(
    readonly owner: string,
    readonly cap: number,
  ) {
    super(
      `${owner} may have at most ${cap} unfinished (queued or running) jobs (GEOJOBS_MAX_QUEUED_PER_OWNER) and this submission would pass that cap; nothing was submitted: try again when some have finished`,
      QUEUE_FULL_RETRY_AFTER_SECONDS,
    );
  }
}
