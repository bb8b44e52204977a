import { InvalidRequestError, NotFoundError } from '../common/domain-error.js';

/** A boundary search needs a name, or a latitude and a longitude: not neither, not both. */
export class BoundarySearchError extends InvalidRequestError {
  readonly code = 'PACKAGES.BAD_SEARCH';
}

export class BoundaryNotFoundError extends NotFoundError {
  readonly code = 'PACKAGES.BOUNDARY_NOT_FOUND';

  constructor(name: string) {
    super(`Requested boundary ${name} could not be found`);
  }
}

export class ProcessorNotFoundError extends NotFoundError {
  readonly code = 'PACKAGES.PROCESSOR_NOT_FOUND';
}

export class PackageNotFoundError extends NotFoundError {
  readonly code = 'PACKAGES.PACKAGE_NOT_FOUND';

  constructor(boundary: string) {
    super(`Package ${boundary} has no existing or executing datasets`);
  }
}

/** A CCG job submission irv-autopkg would have refused with 400 (an unknown boundary or processor). */
export class CcgSubmissionError extends InvalidRequestError {
  readonly code = 'PACKAGES.CCG_SUBMISSION';
}

/** irv-autopkg's answer for a job it did not know. */
export class CcgJobNotFoundError extends NotFoundError {
  readonly code = 'PACKAGES.CCG_JOB_NOT_FOUND';

  constructor(id: string) {
    super(`Job not found: ${id}`);
  }
}
