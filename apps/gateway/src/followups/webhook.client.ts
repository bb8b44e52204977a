import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { HostPolicy, HttpClient, type FailedTry } from '#shared';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';

/** Per try: connecting, then waiting for the answer. */
const WEBHOOK_TIMEOUT_MS = 10_000;
/** Tries per delivery of the command; after them the broker's retry tiers take over, then the dead-letter queue. */
const WEBHOOK_RETRY = { attempts: 3, backoff: { baseMs: 500, maxMs: 10_000 } };

/**
 * Followup webhooks, through the shared outbound client: the followup's address passes the host policy
 * (GEOJOBS_ALLOWED_HOSTS) and the connection is pinned to the address checked, so a followup cannot be pointed at the
 * gateway's own network unless the operator allowed it; no redirects; timeouts, network errors, 408, 429 and 5xx
 * retried with backoff within the delivery.
 */
@Injectable()
export class WebhookClient implements OnApplicationShutdown {
  private readonly http: HttpClient;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.http = new HttpClient({ policy: new HostPolicy(config.GEOJOBS_ALLOWED_HOSTS), connectTimeoutMs: WEBHOOK_TIMEOUT_MS });
  }

  /**
   * Resolves with the final HTTP status; rejects with an `AddressNotAllowedError` (never retried) or, when no answer
   * came after the tries, an `HttpRequestError`. `onRetry` is awaited before each next try.
   */
  async post(target: string, body: string, headers: Record<string, string>, onRetry: (failed: FailedTry) => Promise<void>): Promise<number> {
    return (await this.http.post(target, body, { headers, timeoutMs: WEBHOOK_TIMEOUT_MS, retry: WEBHOOK_RETRY, onRetry })).status;
  }

  onApplicationShutdown(): Promise<void> {
    return this.http.close();
  }
}
