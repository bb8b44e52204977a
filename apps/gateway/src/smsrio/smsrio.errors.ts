import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { ConflictError } from '../common/domain-error.js';
import { ExportRequestError } from './export-request.js';
import type { RunningExport } from './smsrio.repository.js';

/** `/clear/` while exports run: their files, and their inputs' downloads, must not be pulled from under them. */
export class ExportsRunningError extends ConflictError {
  readonly code = 'SMSRIO.EXPORTS_RUNNING';

  constructor(readonly running: RunningExport[]) {
    super(
      `${running.length} export(s) running, nothing was cleared; wait for them or cancel them: ` +
        running.map((job) => `${job.id}${job.uri ? ` (${job.uri})` : ''}`).join(', '),
    );
  }
}

/**
 * Errors of the SMS-Rio API in its own shape, FastAPI's `{detail}`: a body it would have refused answers 422 with
 * Pydantic's list of problems; `/clear/` during an export (which the original could not refuse) answers 409 with the
 * message and the running exports. Any other error keeps the gateway's answer.
 */
@Catch(ExportRequestError, ExportsRunningError)
export class SmsRioErrorFilter implements ExceptionFilter<ExportRequestError | ExportsRunningError> {
  catch(error: ExportRequestError | ExportsRunningError, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (error instanceof ExportRequestError) return void response.status(422).json({ detail: error.detail });
    response.status(409).json({ detail: error.message, running: error.running.map(({ id, uri }) => ({ id, uri })) });
  }
}
