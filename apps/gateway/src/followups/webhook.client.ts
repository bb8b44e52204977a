import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { Inject, Injectable } from '@nestjs/common';
import { HostPolicy } from '#shared';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';

/** The webhook's address is private or loopback and not allow-listed (GEOJOBS_ALLOWED_HOSTS): never retried. */
export class WebhookRefusedError extends Error {
  override readonly name = 'WebhookRefusedError';
}

const MAX_RESPONSE_BYTES = 64 * 1024;

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
  post(target: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<number> {
    const url = new URL(target);
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(hostname) && !this.policy.allows(hostname, hostname)) return Promise.reject(this.refusal(hostname, hostname));
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = client.request(url, {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: false,
        lookup: this.policy.lookup(hostname, (address) => this.refusal(hostname, address)),
        signal: AbortSignal.timeout(timeoutMs),
      });
      request.on('response', (response) => {
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > MAX_RESPONSE_BYTES) response.destroy();
        });
        response.on('close', () => resolve(response.statusCode ?? 0));
        response.on('error', () => resolve(response.statusCode ?? 0));
      });
      request.on('error', reject);
      request.end(body);
    });
  }

  private refusal(hostname: string, address: string): WebhookRefusedError {
    return new WebhookRefusedError(`${hostname} (${address}) is a private or loopback address, not in GEOJOBS_ALLOWED_HOSTS`);
  }
}
