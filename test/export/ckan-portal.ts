import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A resource as a CKAN portal lists it in `package_show`. */
export interface PortalResource {
  id: string;
  name: string;
  url: string;
  format: string;
}

export interface PortalDataset {
  id: string;
  name: string;
  title: string;
  resources: PortalResource[];
}

/**
 * A stand-in for a CKAN portal's action API, as dataset exports read it: `GET /api/3/action/package_show?id=` answers
 * the datasets it holds by id or name, CKAN's 404 `Not Found Error` for any other, and, while `down`, 503 with a
 * maintenance page to every request. Records each request with its headers.
 */
export class CkanPortal {
  readonly datasets: PortalDataset[] = [];
  readonly requests: { path: string; id: string | null; headers: IncomingHttpHeaders }[] = [];
  down = false;
  private server!: Server;
  private port = 0;

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://x');
      const id = url.searchParams.get('id');
      this.requests.push({ path: url.pathname, id, headers: request.headers });
      if (this.down) {
        response.writeHead(503, { 'content-type': 'text/html' }).end('<html><body>Portal under maintenance until 20:00 UTC</body></html>');
        return;
      }
      if (request.method !== 'GET' || url.pathname !== '/api/3/action/package_show') {
        response
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ success: false, error: { message: 'Bad request - Action name not known' } }));
        return;
      }
      const dataset = this.datasets.find((candidate) => candidate.id === id || candidate.name === id);
      if (!dataset) {
        response
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ help: 'package_show', success: false, error: { __type: 'Not Found Error', message: 'Not found' } }));
        return;
      }
      const resources = dataset.resources.map((resource, position) => ({ ...resource, package_id: dataset.id, position, state: 'active' }));
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ help: 'package_show', success: true, result: { ...dataset, num_resources: resources.length, resources } }));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The package_show requests for a dataset id. */
  packageShows(id: string): { headers: IncomingHttpHeaders }[] {
    return this.requests.filter((request) => request.path === '/api/3/action/package_show' && request.id === id);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
