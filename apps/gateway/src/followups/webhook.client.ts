import { Inject, Injectable } from '@nestjs/common';
import { guardedPost, HostPolicy } from '#shared';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';

/** The webhook's address is private or loopback and not allow-listed (GEOJOBS_ALLOWED_HOSTS): never retried. */
export class WebhookRefusedError extends Error {
  override readonly name = 'WebhookRefusedError';
}

/**
 * POSTs webhook bodies. The connection goes to the address the host policy checked (a guarded DNS lookup), so a
 * followup cannot be pointed at the gateway's own network unless the operator allowed it; no redirects.
 */
@Injectable()
export class WebhookClient {
  private readonly policy: HostPolicy;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.policy = new HostPolicy(config.GEOJOBS_ALLOWED_HOSTS);
  }

  /** Resolves with the HTTP status; rejects when unreachable, refused or past `timeoutMs`. */
  async post(target: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<number> {
    return (await guardedPost(this.policy, target, body, headers, timeoutMs, (hostname, address) => this.refusal(hostname, address))).status;
  }

  private refusal(hostname: string, address: string): WebhookRefusedError {
    return new WebhookRefusedError(`${hostname} (${address}) is a private or loopback address, not in GEOJOBS_ALLOWED_HOSTS`);
  }
}
