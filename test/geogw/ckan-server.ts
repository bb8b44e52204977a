import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  path: string;
  headers: IncomingHttpHeaders;
  /** The body exactly as it arrived. */
  raw: string;
  status: number;
}

/**
 * A stand-in for the portal's action API (and for any callback receiver): records every POST, and answers with
 * the statuses queued for a path (then 200 `{"success": true}`).
 */
export class CkanServer {
  readonly received: Recorded[] = [];
  /** Statuses to answer next, per path, before the 200s. */
  readonly failures = new Map<string, number[]>();
  private server!: Server;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const path = new URL(request.url ?? '/', 'http://x').pathname;
        const status = this.failures.get(path)?.shift() ?? 200;
        this.received.push({ path, headers: request.headers, raw: Buffer.concat(chunks).toString('utf8'), status });
        response.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '{"success": true}' : '{"success": false}');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The successful posts whose JSON body matches. */
  delivered(path: string, match: (body: Record<string, any>) => boolean): Recorded[] {
    return this.received.filter((item) => item.path === path && item.status === 200 && match(JSON.parse(item.raw)));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
