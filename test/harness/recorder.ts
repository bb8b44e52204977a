import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local HTTP server standing in for the portal (or any callback target): records every request it gets. */
export class Recorder {
  readonly requests: Recorded[] = [];
  /** Status to answer with; a test may change it (e.g. to 500 for a while). */
  status = 200;

  private constructor(private readonly server: Server) {}

  static async start(): Promise<Recorder> {
    let recorder: Recorder;
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        recorder.requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
        response.writeHead(recorder.status, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ success: recorder.status < 400 }));
      });
    });
    recorder = new Recorder(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return recorder;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
