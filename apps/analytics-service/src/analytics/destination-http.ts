import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { HttpClient } from '#shared';
import { ANALYTICS_CONFIG, type AnalyticsConfig } from '../config/analytics.config.js';
import type { DestinationAnswer } from './send-outcome.js';

/** Connections kept open to one destination, as the mixpanel package's keep-alive agent allowed. */
const CONNECTIONS_PER_DESTINATION = 32;
/** An idle connection waits this long for the next batch (a destination's own keep-alive hint may shorten it). */
const KEEP_ALIVE_MS = 30_000;

/**
 * The connection pools every analytics destination is called through: batches follow each other closely, so
 * connections are kept alive and reused. One try per call: DestinationDelivery retries a batch with the shared
 * backoff, for as long as ANALYTICS_GIVE_UP_AFTER_MS. Mixpanel and GA4 are addresses the operator configured,
 * so no host policy applies (a local Mixpanel-compatible server is fine).
 */
@Injectable()
export class DestinationHttp implements OnApplicationShutdown {
  private readonly client: HttpClient;

  constructor(@Inject(ANALYTICS_CONFIG) private readonly config: AnalyticsConfig) {
    this.client = new HttpClient({
      policy: null,
      connectTimeoutMs: config.ANALYTICS_REQUEST_TIMEOUT_MS,
      connections: CONNECTIONS_PER_DESTINATION,
      keepAliveMs: KEEP_ALIVE_MS,
    });
  }

  /** One POST; rejects on a network error or a timeout (both retried by the delivery). */
  async post(url: string, body: Buffer, headers: Record<string, string>): Promise<DestinationAnswer> {
    const answer = await this.client.post(url, body, { headers, timeoutMs: this.config.ANALYTICS_REQUEST_TIMEOUT_MS });
    const retryAfter = answer.headers['retry-after'];
    return { status: answer.status, body: answer.body, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined };
  }

  /** After the deliveries have flushed (onModuleDestroy), so their last batches still go out. */
  onApplicationShutdown(): Promise<void> {
    return this.client.close();
  }
}
