/**
 * The run was cancelled (its AbortSignal fired) before or while a step ran. Named `AbortError` like the
 * DOMException that fetch and streams throw, so callers that already recognise cancellation by name keep working.
 */
export class PipelineAbortedError extends Error {
  override readonly name = 'AbortError';

  constructor(
    /** The step that was running or about to run. */
    readonly step: string,
    options?: { cause?: unknown },
  ) {
    super(`pipeline cancelled at step "${step}"`, options);
  }
}

/** A step threw; `cause` is what it threw, `step` says which step it was. */
export class PipelineStepError extends Error {
  override readonly name = 'PipelineStepError';

  constructor(
    readonly step: string,
    cause: unknown,
  ) {
    super(`step "${step}" failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
