import { randomBytes, timingSafeEqual } from 'node:crypto';
import { HttpException, Inject, Injectable } from '@nestjs/common';
import { AuthService } from '../auth/auth.service.js';
import { hashApiKey } from '../auth/secrets.js';
import { InvalidRequestError } from '../common/domain-error.js';
import { JOB_TYPE_NAMES } from '../job-model/job-types.js';
import { JobsRepository } from '../jobs/jobs.repository.js';
import { JobsService } from '../jobs/jobs.service.js';
import { toCkanJobDict, type CkanJobDict } from './ckan-job.js';

const ALLOWED_KEYS = new Set(['job_type', 'data', 'metadata', 'result_url', 'api_key']);

/** The protocol's errors: a status and `{error}`, never Nest's usual body. */
export class CkanError extends HttpException {
  constructor(status: number, message: string) {
    super({ error: message }, status);
  }
}

@Injectable()
export class CkanService {
  constructor(
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(JobsService) private readonly jobs: JobsService,
    @Inject(JobsRepository) private readonly repository: JobsRepository,
  ) {}

  /** `POST /job`: the body's api_key is the credential, and must be a portal API key registered here. */
  async submit(body: unknown): Promise<CkanJobDict & { job_key: string }> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new CkanError(409, 'the body must be a JSON object');
    const request = body as Record<string, unknown>;
    const unknown = Object.keys(request).filter((key) => !ALLOWED_KEYS.has(key));
    if (unknown.length > 0) throw new CkanError(409, `unknown keys: ${unknown.join(', ')}; allowed: ${[...ALLOWED_KEYS].join(', ')}`);
    const { job_type: jobType, data = {}, metadata = {}, result_url: resultUrl, api_key: apiKey } = request;
    if (typeof jobType !== 'string' || !JOB_TYPE_NAMES.includes(jobType)) {
      throw new CkanError(409, `job_type must be one of the available job types: ${JOB_TYPE_NAMES.join(', ')}`);
    }
    if (resultUrl !== undefined && resultUrl !== null && (typeof resultUrl !== 'string' || !resultUrl.startsWith('http'))) {
      throw new CkanError(409, 'result_url must start with http');
    }
    if (typeof apiKey !== 'string' || apiKey === '') throw new CkanError(409, 'api_key is missing');
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new CkanError(409, 'metadata must be an object');
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new CkanError(409, 'data must be an object');
    const principal = await this.auth.fromApiKey(apiKey);
    if (!principal || principal.role === 'reader') throw new CkanError(403, 'api_key is not a portal API key of this service');

    const jobKey = randomBytes(24).toString('base64url');
    let submitted;
    try {
      // A key of its own, so the duplicate check (which would hand back another client's job) never applies.
      [submitted] = await this.jobs.submit(principal, [{ type: jobType, input: data as Record<string, unknown>, idempotencyKey: `ckan:${jobKey}` }], '', {
        jobType,
        jobKeyHash: hashApiKey(jobKey),
        resultUrl: typeof resultUrl === 'string' ? resultUrl : null,
        apiKey,
        metadata: metadata as Record<string, unknown>,
      });
    } catch (error) {
      if (error instanceof InvalidRequestError) throw new CkanError(409, `invalid data: ${error.problems.join('; ')}`);
      throw error;
    }
    const row = (await this.repository.findById(submitted.job.id))!;
    return { ...toCkanJobDict(row), job_key: jobKey };
  }

  /** `GET /job/:id` with `Authorization: <job_key>`. */
  async status(id: string, jobKey: string | undefined): Promise<CkanJobDict> {
    const row = /^[0-9a-f-]{36}$/i.test(id) ? await this.repository.findById(id) : undefined;
    if (!row?.ckan) throw new CkanError(404, `job_id not found: ${id}`);
    if (!jobKey || !sameHash(hashApiKey(jobKey), row.ckan.jobKeyHash)) throw new CkanError(403, 'not authorized: wrong or missing job_key');
    return toCkanJobDict(row);
  }
}

const sameHash = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
