import { BadGatewayException, Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';

/**
 * The RabbitMQ management HTTP API, called with the gateway's own credentials (from GEOJOBS_RABBITMQ_MGMT_URL), which
 * never leave the gateway: the dashboard sees only what the queues controller chooses to answer.
 */
@Injectable()
export class ManagementClient {
  private readonly base: URL | undefined;
  private readonly authorization: string | undefined;
  /** The vhost of the gateway's own broker connection: the queues it and its services use. */
  readonly vhost: string;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    const amqpPath = new URL(config.GEOJOBS_AMQP_URL[0]).pathname.slice(1); // every node's URL names the same vhost
    this.vhost = amqpPath === '' ? '/' : decodeURIComponent(amqpPath);
    if (!config.GEOJOBS_RABBITMQ_MGMT_URL) return;
    const url = new URL(config.GEOJOBS_RABBITMQ_MGMT_URL);
    this.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    url.username = '';
    url.password = '';
    this.base = url;
  }

  /** The management UI's page of this vhost's queues, without credentials: a link for the dashboard. */
  get uiUrl(): string | null {
    return this.base ? new URL(`#/queues/${encodeURIComponent(this.vhost)}`, this.base).toString() : null;
  }

  /** `/api/…` path with the vhost filled in as `{vhost}`. */
  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    if (!this.base || !this.authorization) throw new ServiceUnavailableException('the RabbitMQ management API is not configured (GEOJOBS_RABBITMQ_MGMT_URL)');
    const url = new URL(path.replace('{vhost}', encodeURIComponent(this.vhost)), this.base);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { authorization: this.authorization, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new BadGatewayException(`the RabbitMQ management API did not answer: ${(error as Error).message}`);
    }
    if (!response.ok) throw new BadGatewayException(`the RabbitMQ management API answered ${response.status} to ${method} ${url.pathname}`);
    return (await response.json()) as T;
  }
}
