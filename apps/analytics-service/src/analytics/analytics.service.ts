import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  causedBy,
  commandEnvelope,
  Broker,
  JobFailure,
  QUEUES,
  type AnalyticsDestination,
  type AnalyticsTrackV1,
  type Envelope,
  type HandlerContext,
  type JobResult,
} from '#shared';
import { ANALYTICS_CONFIG, type AnalyticsConfig } from '../config/analytics.config.js';
import { AnalyticsMetrics } from './analytics-metrics.js';
import { DestinationDelivery, type RefusedEvent } from './destination-delivery.js';
import type { DestinationClient, EventOrigin, PendingEvent } from './destination.js';
import { Ga4Service } from './ga4.service.js';
import { MixpanelService } from './mixpanel.service.js';

export const ANALYTICS_LOGGER = Symbol('ANALYTICS_LOGGER');

/** How many refusal reasons a failed job's message quotes. */
const REASONS_QUOTED = 3;

/**
 * Hands each event of an `analytics.track` command to the deliveries of its destinations and resolves when
 * every one is settled — accepted by the destination or dead-lettered with its reason — so the command's
 * message is acked only then. Rejects if a destination stayed unreachable past ANALYTICS_GIVE_UP_AFTER_MS
 * (the broker retries the message; `$insert_id` keeps Mixpanel from counting its events twice).
 *
 * A command that belongs to a job (the gateway's `POST /analytics/events`, a `POST /jobs` of type
 * analytics.track) is run by the worker as that job: it succeeds with what was delivered and refused, and fails
 * when every event was refused.
 */
@Injectable()
export class AnalyticsService implements OnModuleDestroy {
  private readonly deliveries: Record<AnalyticsDestination, DestinationDelivery>;
  private readonly stopping = new AbortController();

  constructor(
    @Inject(Broker) private readonly broker: Broker,
    @Inject(ANALYTICS_CONFIG) config: AnalyticsConfig,
    @Inject(MixpanelService) mixpanel: MixpanelService,
    @Inject(Ga4Service) ga4: Ga4Service,
    @Inject(AnalyticsMetrics) metrics: AnalyticsMetrics,
    @Inject(ANALYTICS_LOGGER) logger: Logger,
  ) {
    const delivery = (client: DestinationClient) =>
      new DestinationDelivery(
        client,
        {
          flushDelayMs: config.ANALYTICS_FLUSH_DELAY_MS,
          backoff: { baseMs: config.ANALYTICS_RETRY_BASE_MS, maxMs: config.ANALYTICS_RETRY_MAX_MS },
          giveUpAfterMs: config.ANALYTICS_GIVE_UP_AFTER_MS,
          deadLetter: (refused) => this.deadLetter(client.name, refused),
          signal: this.stopping.signal,
        },
        metrics,
        logger,
      );
    this.deliveries = { mixpanel: delivery(mixpanel), ga4: delivery(ga4) };
  }

  async track(command: Envelope<AnalyticsTrackV1>, context: HandlerContext): Promise<JobResult> {
    const origin: EventOrigin = {
      messageId: command.id,
      correlationId: command.correlationId,
      jobId: command.payload.jobId,
      attempt: context.attempt,
    };
    const pending: PendingEvent[] = [];
    const settled: Promise<void>[] = [];
    for (const event of command.payload.events) {
      for (const destination of new Set(event.destinations)) {
        const one: PendingEvent = { event, origin };
        pending.push(one);
        settled.push(this.deliveries[destination].deliver(one));
      }
    }
    await Promise.all(settled);
    const refused = pending.filter((one) => one.refused !== undefined);
    const delivered = pending.length - refused.length;
    if (delivered === 0) {
      const reasons = [...new Set(refused.map((one) => one.refused))].slice(0, REASONS_QUOTED);
      throw new JobFailure({
        type: 'delivery',
        class: 'AnalyticsEventsRefused',
        message: `every event was refused (${refused.length} dead-lettered to ${QUEUES.analytics}.dlq): ${reasons.join('; ')}`,
      });
    }
    return { events: command.payload.events.length, delivered, refused: refused.length };
  }

  /** On stop: send what is batched now, and stop waiting to retry (those messages go back to the broker). */
  async onModuleDestroy(): Promise<void> {
    this.stopping.abort();
    await Promise.all(Object.values(this.deliveries).map((delivery) => delivery.flush()));
  }

  /**
   * Each refused event becomes an `analytics.track` message of its own in analytics_q.dlq, for that one
   * destination only (the others took it), with the destination's reason in `x-geojobs-error`: it can be
   * read, mended and shovelled back to analytics_q.
   */
  private async deadLetter(destination: AnalyticsDestination, refused: RefusedEvent[]): Promise<void> {
    await Promise.all(
      refused.map(({ pending: { event, origin }, reason }) => {
        const payload: AnalyticsTrackV1 = { ...(origin.jobId ? { jobId: origin.jobId } : {}), events: [{ ...event, destinations: [destination] }] };
        // caused by the command that carried the event
        const envelope = commandEnvelope('analytics.track', payload, causedBy({ id: origin.messageId, correlationId: origin.correlationId }));
        return this.broker.publishDeadLetter(QUEUES.analytics, envelope, { reason: 'rejected', error: `${destination}: ${reason}`, attempts: origin.attempt });
      }),
    );
  }
}
