import type { Logger } from 'pino';
import { backoffDelay, sleep, type AnalyticsEventV1, type BackoffPolicy } from '#shared';
import { Batcher } from './batcher.js';
import type { DestinationClient, PendingEvent } from './destination.js';
import type { AnalyticsMetrics } from './analytics-metrics.js';
import type { SendOutcome } from './send-outcome.js';

export interface RefusedEvent {
  pending: PendingEvent;
  reason: string;
}

export interface DeliveryOptions {
  flushDelayMs: number;
  backoff: BackoffPolicy;
  /** After this long retrying, a batch fails: its messages go to the broker's retry path. */
  giveUpAfterMs: number;
  /** Dead-letters refused events, each on its own; resolves once the broker has them. */
  deadLetter: (refused: RefusedEvent[]) => Promise<void>;
  /** Aborted when the service stops: retries stop waiting and fail. */
  signal: AbortSignal;
}

interface Routed {
  key: string;
  pending: PendingEvent;
}

/**
 * Delivers events to one destination: batches them across messages, retries a batch the destination could
 * not take now (exponential backoff with jitter, for as long as `giveUpAfterMs`), and dead-letters the events
 * it refused while the rest of the batch counts as delivered. `deliver` resolves once the event is settled —
 * accepted, or safe in the dead-letter queue (and then its `refused` says why) — so the message carrying it may
 * be acked.
 */
export class DestinationDelivery {
  private readonly batcher: Batcher<Routed>;

  constructor(
    private readonly client: DestinationClient,
    private readonly options: DeliveryOptions,
    private readonly metrics: AnalyticsMetrics,
    private readonly logger: Logger,
  ) {
    this.batcher = new Batcher<Routed>({
      maxSize: client.maxBatch,
      delayMs: options.flushDelayMs,
      keyOf: (routed) => routed.key,
      send: (key, batch) =>
        this.sendBatch(
          key,
          batch.map((routed) => routed.pending),
        ),
    });
    metrics.watchQueued(client.name, () => this.batcher.pending);
  }

  get pending(): number {
    return this.batcher.pending;
  }

  async deliver(pending: PendingEvent): Promise<void> {
    const route = this.client.route(pending.event);
    if ('refused' in route) return this.refuse([{ pending, reason: route.refused }]);
    return this.batcher.add({ key: route.key, pending });
  }

  /** Sends what is waiting now, for a graceful stop. */
  flush(): Promise<void> {
    return this.batcher.flushAll();
  }

  private async sendBatch(key: string, batch: PendingEvent[]): Promise<void> {
    const events: AnalyticsEventV1[] = batch.map((pending) => pending.event);
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      let outcome: SendOutcome;
      try {
        outcome = await this.client.send(key, events);
      } catch (error) {
        outcome = { kind: 'retry', reason: (error as Error).message, retryAfterMs: 0 };
      }
      if (outcome.kind === 'accepted') {
        this.metrics.sent(this.client.name, events.length - outcome.rejected.length);
        if (outcome.rejected.length > 0) {
          await this.refuse(outcome.rejected.map(({ index, reason }) => ({ pending: batch[index], reason })));
        }
        return;
      }
      const waited = Date.now() - started;
      if (this.options.signal.aborted || waited >= this.options.giveUpAfterMs) {
        throw new Error(`${this.client.name}: gave up after ${attempt} tries in ${waited} ms: ${outcome.reason}`);
      }
      const delay = backoffDelay(attempt, this.options.backoff, outcome.retryAfterMs);
      this.metrics.retried(this.client.name, events.length);
      this.logger.warn(
        { destination: this.client.name, events: events.length, attempt, delayMs: delay, reason: outcome.reason },
        'destination could not take a batch; retrying',
      );
      await sleep(delay, this.options.signal);
    }
  }

  private async refuse(refused: RefusedEvent[]): Promise<void> {
    for (const { pending, reason } of refused) pending.refused = reason;
    await this.options.deadLetter(refused);
    this.metrics.rejected(this.client.name, refused.length);
    this.logger.warn({ destination: this.client.name, events: refused.length, reason: refused[0]?.reason }, 'events refused; dead-lettered');
  }
}
