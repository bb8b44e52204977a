import http from 'node:http';
import https from 'node:https';
import type { HttpAnswer } from './send-outcome.js';

export interface PostRequest {
  protocol: 'http' | 'https';
  host: string;
  port?: number;
  /** Path and query. */
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  timeoutMs: number;
}

export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
}

/** Keep-alive agents, one per protocol, as the mixpanel package keeps them; sockets re-used across batches. */
const AGENTS = {
  http: new http.Agent({ keepAlive: true, maxSockets: 32 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 32 }),
};

/** POSTs a body and reads the whole answer; a network error or a timeout rejects. */
export function post(request: PostRequest): Promise<HttpAnswer> {
  const library = request.protocol === 'https' ? https : http;
  return new Promise<HttpAnswer>((resolve, reject) => {
    const outgoing = library.request(
      {
        host: request.host,
        port: request.port,
        path: request.path,
        method: 'POST',
        agent: AGENTS[request.protocol],
        headers: { ...request.headers, 'content-length': String(request.body.length) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const retryAfter = response.headers['retry-after'];
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined });
        });
      },
    );
    outgoing.setTimeout(request.timeoutMs, () => outgoing.destroy(new RequestTimeoutError(`no answer in ${request.timeoutMs} ms`)));
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}
