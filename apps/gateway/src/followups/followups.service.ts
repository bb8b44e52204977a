import { createHash, createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { AddressNotAllowedError, backoffDelay, Broker, causedBy, isRetryableStatus, PermanentError, type Envelope, type FollowupRunV1, LOGGER } from '#shared';
import type { Principal } from '../auth/principal.js';
import { isDatabaseUnavailable } from '../common/database-unavailable.js';
import { InvalidRequestError } from '../common/domain-error.js';
import { CreateJobDto, type ActionDto } from '../jobs/dto/create-job.dto.js';
import { toView, type JobRow } from '../job-model/job.model.js';
import { JobsRepository } from '../jobs/jobs.repository.js';
import { JobsService } from '../jobs/jobs.service.js';
import { ResultLinks } from '../jobs/result-links.js';
import { FollowupsRepository, type FollowupRunKey } from './followups.repository.js';
import { WebhookClient } from './webhook.client.js';

export const SIGNATURE_HEADER = 'X-Geojobs-Signature';
export const DELIVERY_HEADER = 'X-Geojobs-Delivery';
/** How often a delivery waiting for another one's claim on the same followup looks again. */
const CLAIM_POLL_MS = 250;
/** How long the success of a webhook the receiver took is tried to be recorded while PostgreSQL is away. */
const RECORD_DELIVERED = { baseMs: 250, maxMs: 5_000, forMs: 120_000 };

/** `sha256=<hex HMAC-SHA256 of the body>`, what a receiver recomputes with the shared secret. */
export const signature = (secret: string, body: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** A stable UUID for a followup's analytics event: a redelivered followup sends the same `$insert_id`. */
const stableUuid = (seed: string): string => {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};

/**
 * Runs the followups of finished jobs (`followup.run` from followup_q): a webhook, an analytics event, or
 * another job. The commands were written with the job's outcome in one transaction, so each is sent once per
 * outcome; a redelivered one finds its action already succeeded and does nothing, and one delivered twice at
 * once runs once: the first claims it, the second waits for it. Every attempt is recorded.
 */
@Injectable()
export class FollowupsService {
  constructor(
    @Inject(JobsRepository) private readonly jobs: JobsRepository,
    @Inject(JobsService) private readonly jobsService: JobsService,
    @Inject(ResultLinks) private readonly links: ResultLinks,
    @Inject(FollowupsRepository) private readonly runs: FollowupsRepository,
    @Inject(Broker) private readonly broker: Broker,
    @Inject(WebhookClient) private readonly http: WebhookClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async run(command: Envelope<FollowupRunV1>): Promise<void> {
    const key: FollowupRunKey = command.payload;
    const job = await this.jobs.findById(key.jobId);
    if (!job) return; // deleted meanwhile: nothing to follow up
    const actions = job.followups[key.outcome === 'succeeded' ? 'onSuccess' : 'onFailure'];
    const action = Array.isArray(actions) ? (actions[key.index] as ActionDto | undefined) : undefined;
    if (!action) throw new PermanentError(`job ${key.jobId} has no ${key.outcome} followup ${key.index}`);
    if (!(await this.claim(key, action.type))) return; // done before this delivery
    switch (action.type) {
      case 'webhook':
        return this.webhook(key, job, action);
      case 'analytics':
        return this.analytics(key, job, action, command);
      case 'job':
        return this.chain(key, job, action, command);
    }
  }

  /**
   * Claims the followup for this delivery; false if it has already succeeded. While another delivery holds it
   * (the same command delivered twice at once) this one waits: for that one to succeed, or to fail or die, when it
   * runs the followup itself. A holder renews its claim at every attempt, so the wait is bounded.
   */
  private async claim(key: FollowupRunKey, type: string): Promise<boolean> {
    for (;;) {
      const claim = await this.runs.claim(key, type);
      if (claim !== 'busy') return claim === 'claimed';
      await sleep(CLAIM_POLL_MS);
    }
  }

  /** POSTs the job as JSON, signed when the action has a secret; retries with backoff, recording every try. */
  private async webhook(key: FollowupRunKey, job: JobRow, action: ActionDto): Promise<void> {
    const children = await this.jobs.childrenSummaries([job.id]);
    const body = JSON.stringify(this.links.present(toView(job, children.get(job.id) ?? null)));
    // The same for every delivery of this followup: a receiver that must not act twice keys on it (see the README's Guarantees).
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'geojobs',
      [DELIVERY_HEADER]: `${key.jobId}:${key.outcome}:${key.index}`,
    };
    if (action.secret) headers[SIGNATURE_HEADER] = signature(action.secret, body);
    await this.runs.record(key, { type: 'webhook', state: 'running' });
    let status: number | null = null;
    let lastError = '';
    let refused = false;
    try {
      // each failed try is recorded, and the next one renews this delivery's claim
      status = await this.http.post(action.url!, body, headers, async (failed) => {
        const error = failed.status !== null ? `the webhook answered ${failed.status}` : `the webhook could not be reached: ${failed.error?.message}`;
        await this.runs.record(key, { type: 'webhook', state: 'failed', status: failed.status, error });
        await this.runs.record(key, { type: 'webhook', state: 'running' });
      });
    } catch (error) {
      refused = error instanceof AddressNotAllowedError;
      lastError = refused ? `the webhook was refused: ${(error as Error).message}` : `the webhook could not be reached: ${(error as Error).message}`;
    }
    if (status !== null && status >= 200 && status < 300) return this.recordDelivered(key, status);
    if (status !== null) lastError = `the webhook answered ${status}`;
    await this.runs.record(key, { type: 'webhook', state: 'failed', status, error: lastError });
    // a refused address, or an answer that retrying would not change (4xx but 408/429, 3xx), is dead-lettered now
    if (refused || (status !== null && !isRetryableStatus(status))) throw new PermanentError(lastError);
    throw new Error(lastError); // the broker retries later, with longer delays
  }

  /**
   * Records that the receiver took the webhook. The POST cannot be taken back, so while PostgreSQL is away this waits
   * for it (for up to two minutes) rather than failing the delivery, whose retry would POST the webhook a second time.
   */
  private async recordDelivered(key: FollowupRunKey, status: number): Promise<void> {
    const deadline = Date.now() + RECORD_DELIVERED.forMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.runs.record(key, { type: 'webhook', state: 'succeeded', status });
        return;
      } catch (error) {
        if (!isDatabaseUnavailable(error) || Date.now() > deadline) throw error;
        this.logger.warn({ jobId: key.jobId, err: error }, 'the webhook was delivered; waiting for the database to record it');
        await sleep(backoffDelay(attempt, RECORD_DELIVERED));
      }
    }
  }

  /** Publishes an `analytics.track` command (with a stable insert id, so a repeat is counted once). */
  private async analytics(key: FollowupRunKey, job: JobRow, action: ActionDto, command: Envelope<FollowupRunV1>): Promise<void> {
    await this.runs.record(key, { type: 'analytics', state: 'running' });
    const insertId = stableUuid(`${key.jobId}:${key.outcome}:${key.index}`);
    await this.broker.publishCommand(
      'analytics.track',
      {
        jobId: job.id,
        events: [
          {
            insertId,
            event: action.event!,
            distinctId: job.owner,
            time: Date.now(),
            properties: { ...(action.properties ?? {}), jobId: job.id, jobType: job.type, state: job.state },
            destinations: ['mixpanel'],
          },
        ],
      },
      causedBy(command),
    );
    await this.runs.record(key, { type: 'analytics', state: 'succeeded', detail: { insertId } });
  }

  /**
   * Submits the next job, with this one's result as `input.previous`; its idempotency key makes it once only. Its
   * command is caused by this followup's.
   */
  private async chain(key: FollowupRunKey, job: JobRow, action: ActionDto, command: Envelope<FollowupRunV1>): Promise<void> {
    await this.runs.record(key, { type: 'job', state: 'running' });
    const owner: Principal = { name: job.owner, role: 'portal', via: 'api-key' };
    const request = Object.assign(new CreateJobDto(), {
      type: action.job!.type,
      input: { ...action.job!.input, previous: job.result ?? { error: job.error } },
      idempotencyKey: `followup:${key.jobId}:${key.outcome}:${key.index}`,
    });
    try {
      const [submitted] = await this.jobsService.submit(owner, [request], '', null, command.id);
      await this.runs.record(key, { type: 'job', state: 'succeeded', detail: { jobId: submitted.job.id } });
    } catch (error) {
      await this.runs.record(key, { type: 'job', state: 'failed', error: (error as Error).message });
      if (error instanceof InvalidRequestError) {
        this.logger.warn({ jobId: key.jobId, err: error }, 'followup job refused');
        throw new PermanentError(`the followup job was refused: ${error.message}`);
      }
      throw error;
    }
  }
}
