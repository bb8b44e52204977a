import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { HostPolicy } from './host-policy.js';

export interface GuardedResponse {
  status: number;
  /** The start of the answer's body (for logs), at most `MAX_RESPONSE_BYTES`. */
  body: string;
}

const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs `body` to a URL given by a user (a webhook, a callback), connecting only to an address the host policy
 * allows: the address is checked as DNS answers and the connection goes to that same address, so a name cannot
 * resolve to a public address for the check and a private one for the request. No redirects. `refusal` makes the
 * error for a refused address, so the caller can tell it from a failure worth retrying.
 */
export function guardedPost(
  policy: HostPolicy,
  target: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  refusal: (hostname: string, address: string) => Error,
): Promise<GuardedResponse> {
  const url = new URL(target);
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(hostname) && !policy.allows(hostname, hostname)) return Promise.reject(refusal(hostname, hostname));
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      agent: false,
      lookup: policy.lookup(hostname, (address) => refusal(hostname, address)),
      signal: AbortSignal.timeout(timeoutMs),
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_RESPONSE_BYTES) return response.destroy();
        chunks.push(chunk);
      });
      const done = () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      response.on('close', done);
      response.on('error', done);
    });
    request.on('error', reject);
    request.end(body);
  });
}
