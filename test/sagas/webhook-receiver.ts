import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  /** The X-Geojobs-Signature header matched the HMAC of the body under the receiver's secret. */
  signed: boolean;
}

/** A portal's webhook endpoint: records every POST, checks its signature, and can fail the first ones. */
export class WebhookReceiver {
  readonly deliveries: Delivery[] = [];
  /** Answers 500 to this many requests of a path before accepting. */
  private readonly failures = new Map<string, number>();
  /** Answers requests of a path only after this many milliseconds. */
  private readonly delays = new Map<string, number>();
  /** Requests received per path, answered or not yet. */
  private readonly received = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    readonly secret: string,
  ) {}

  static async start(secret: string): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | undefined;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks);
        const path = request.url ?? '/';
        receiver!.received.set(path, (receiver!.received.get(path) ?? 0) + 1);
        const left = receiver!.failures.get(path) ?? 0;
        if (left > 0) {
          receiver!.failures.set(path, left - 1);
          response.writeHead(500).end('not now');
          return;
        }
        const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`);
        const given = Buffer.from(String(request.headers['x-geojobs-signature'] ?? ''));
        setTimeout(
          () => {
            receiver!.deliveries.push({
              path,
              headers: request.headers,
              body: JSON.parse(raw.toString()) as Record<string, unknown>,
              signed: given.length === expected.length && timingSafeEqual(given, expected),
            });
            response.writeHead(204).end();
          },
          receiver!.delays.get(path) ?? 0,
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = new WebhookReceiver(server, secret);
    return receiver;
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  failFirst(path: string, count: number): void {
    this.failures.set(path, count);
  }

  answerAfter(path: string, ms: number): void {
    this.delays.set(path, ms);
  }

  /** How many requests of a path arrived, including those not answered yet. */
  requestsTo(path: string): number {
    return this.received.get(path) ?? 0;
  }

  to(path: string): Delivery[] {
    return this.deliveries.filter((delivery) => delivery.path === path);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
