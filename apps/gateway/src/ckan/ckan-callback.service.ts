import { Inject, Injectable } from '@nestjs/common';
import { PermanentError } from '#shared';
import { JobsRepository } from '../jobs/jobs.repository.js';
import { toCkanJobDict } from './ckan-job.js';

const TIMEOUT_MS = 15_000;

/**
 * Tells a CKAN client its job is done: POSTs the job dict to its result_url with its api_key. A 5xx,
 * a timeout or a network error is thrown, so the broker retries it with backoff; a 4xx will not improve
 * and is dead-lettered with the portal's answer.
 */
@Injectable()
export class CkanCallbackService {
  constructor(@Inject(JobsRepository) private readonly jobs: JobsRepository) {}

  async send(jobId: string): Promise<void> {
    const row = await this.jobs.findById(jobId);
    if (!row?.ckan?.resultUrl) return;
    const response = await fetch(row.ckan.resultUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: row.ckan.apiKey },
      body: JSON.stringify(toCkanJobDict(row)),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (response.ok) return;
    const answer = (await response.text()).slice(0, 500);
    const message = `the portal answered ${response.status} to the callback: ${answer}`;
    if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) throw new PermanentError(message);
    throw new Error(message);
  }
}
