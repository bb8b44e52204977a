import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { AddressNotAllowedError, HostPolicy, HttpClient, isRetryableStatus, PermanentError, type HttpAnswer } from '#shared';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { JobsRepository } from '../jobs/jobs.repository.js';
import { CkanCallbackRepository } from './ckan-callback.repository.js';
import { toCkanJobDict } from './ckan-job.js';

/** Per try: connecting, then waiting for the portal's answer. */
const TIMEOUT_MS = 15_000;
/** Tries per delivery of the command; then the broker's retry tiers, then the dead-letter queue. */
const RETRY = { attempts: 3, backoff: { baseMs: 500, maxMs: 10_000 } };

/**
 * Tells a CKAN client its job is done: POSTs the job dict to its result_url with its api_key, through the shared
 * outbound client. The result_url is whatever the client sent, so it passes the host policy: a private, loopback or
 * link-local address not in GEOJOBS_ALLOWED_HOSTS (cloud metadata, the gateway's own network) is never called, and a
 * redirect is never followed. Timeouts, network errors, 408, 429 and 5xx are retried with backoff, then thrown so the
 * broker retries later; any other answer is final and dead-lettered. Each outcome is recorded on the job, where
 * `GET /job/:id` shows it in the logs.
 */
@Injectable()
export class CkanCallbackService implements OnApplicationShutdown {
  private readonly http: HttpClient;

  constructor(
    @Inject(JobsRepository) private readonly jobs: JobsRepository,
    @Inject(CkanCallbackRepository) private readonly callbacks: CkanCallbackRepository,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.http = new HttpClient({ policy: new HostPolicy(config.GEOJOBS_ALLOWED_HOSTS), connectTimeoutMs: TIMEOUT_MS });
  }

  async send(jobId: string): Promise<void> {
    const row = await this.jobs.findById(jobId);
    if (!row?.ckan?.resultUrl) return;
    let url: URL;
    try {
      url = new URL(row.ckan.resultUrl);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported scheme ${url.protocol}`);
    } catch (error) {
      return this.refuse(jobId, `result_url not called: ${(error as Error).message}`);
    }
    let answer: HttpAnswer;
    try {
      answer = await this.http.post(url, JSON.stringify(toCkanJobDict(row)), {
        headers: { 'content-type': 'application/json', authorization: row.ckan.apiKey },
        timeoutMs: TIMEOUT_MS,
        retry: RETRY,
      });
    } catch (error) {
      if (error instanceof AddressNotAllowedError) return this.refuse(jobId, `result_url not called: ${error.message}`);
      const message = `result_url could not be reached: ${(error as Error).message}`;
      await this.callbacks.record(jobId, 'ERROR', message);
      throw new Error(message, { cause: error });
    }
    if (answer.status >= 200 && answer.status < 300) return this.callbacks.record(jobId, 'INFO', `result_url answered ${answer.status}`);
    const redirect = answer.status >= 300 && answer.status < 400 ? ' (redirects are not followed)' : '';
    const message = `the portal answered ${answer.status} to the callback${redirect}: ${answer.body.slice(0, 500)}`;
    await this.callbacks.record(jobId, 'ERROR', message);
    if (!isRetryableStatus(answer.status)) throw new PermanentError(message);
    throw new Error(message);
  }

  onApplicationShutdown(): Promise<void> {
    return this.http.close();
  }

  /** A callback that can never be made: recorded on the job and dead-lettered, never retried. */
  private async refuse(jobId: string, message: string): Promise<never> {
    await this.callbacks.record(jobId, 'ERROR', message);
    throw new PermanentError(message);
  }
}
