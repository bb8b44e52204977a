/**
 * Local stand-ins for Mixpanel's ingestion API and GA4's Measurement Protocol that record what they receive,
 * for the analytics tests and `npm run bench:analytics`. They speak the parts of the real protocols that
 * analytics-service and the mixpanel package use, and can be told to fail: a status for the next requests,
 * or a per-record refusal like Mixpanel's strict-mode 400.
 */
import { writeFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface MixpanelRecord {
  endpoint: 'track' | 'import';
  event: string;
  properties: Record<string, unknown>;
  /** The Authorization header of the request that carried it. */
  authorization?: string;
}

export interface Ga4Hit {
  query: Record<string, string>;
  body: { client_id: string; user_id?: string; events: { name: string; params: Record<string, unknown>; timestamp_micros?: number }[] };
}

interface Failure {
  status: number;
  remaining: number;
  body: string;
}

/** A self-signed certificate for 127.0.0.1 and localhost, written to a file for NODE_EXTRA_CA_CERTS. */
export async function localCertificate(): Promise<{ key: string; cert: string; certFile: string }> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  const certFile = join(tmpdir(), `geojobs-local-${process.pid}-${Date.now()}.pem`);
  writeFileSync(certFile, pems.cert);
  return { key: pems.private, cert: pems.cert, certFile };
}

const readBody = (request: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });

/** Mixpanel's `data` parameter: JSON, or base64 JSON (whose `+` a form decoder has turned into spaces). */
function decodeData(data: string): unknown {
  const trimmed = data.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) return JSON.parse(trimmed);
  return JSON.parse(Buffer.from(trimmed.replace(/ /g, '+'), 'base64').toString('utf8'));
}

abstract class RecordingServer {
  protected server!: http.Server | https.Server;
  protected failures: Failure[] = [];
  requests = 0;
  url = '';

  /** Answer the next `count` requests with `status` (a destination's burst of 5xx or 429, or one that is down). */
  failNext(count: number, status: number, body = ''): void {
    this.failures.push({ status, remaining: count, body });
  }

  /** Forget the failures still to come: the destination is back. */
  recover(): void {
    this.failures = [];
  }

  /** Answers with the next scripted failure, if one is due; says whether it did. */
  protected answeredWithFailure(response: ServerResponse): boolean {
    const failure = this.failures[0];
    if (!failure) return false;
    if (--failure.remaining <= 0) this.failures.shift();
    response.statusCode = failure.status;
    response.end(failure.body);
    return true;
  }

  protected async listen(handler: (request: IncomingMessage, response: ServerResponse) => Promise<void>, tls?: { key: string; cert: string }): Promise<void> {
    const handle = (request: IncomingMessage, response: ServerResponse) => {
      this.requests += 1;
      handler(request, response).catch((error: Error) => {
        response.statusCode = 500;
        response.end(error.message);
      });
    };
    this.server = tls ? https.createServer({ key: tls.key, cert: tls.cert, keepAlive: true }, handle) : http.createServer({ keepAlive: true }, handle);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  }

  get host(): string {
    return new URL(this.url).host;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export interface MixpanelServerOptions {
  tls?: { key: string; cert: string };
  /** Keep every record (tests); off for benchmarks, which only count. */
  keep?: boolean;
  /**
   * Answer every request this long after it arrived: a simulated network round trip to the real Mixpanel
   * (loopback has none), for benchmarks that compare senders making different numbers of requests.
   */
  latencyMs?: number;
}

/** `/track` (GET ?data= as the package's track() sends, POST form `data=`) and `/import` (JSON), like api.mixpanel.com. */
export class MixpanelServer extends RecordingServer {
  readonly records: MixpanelRecord[] = [];
  received = 0;
  /** Refuses a record with a reason, as Mixpanel's strict mode does (400 naming it in failed_records). */
  refuse: (record: MixpanelRecord) => string | undefined = () => undefined;

  private constructor(
    private readonly keep: boolean,
    private readonly latencyMs: number,
  ) {
    super();
  }

  static async start(options: MixpanelServerOptions = {}): Promise<MixpanelServer> {
    const server = new MixpanelServer(options.keep ?? true, options.latencyMs ?? 0);
    await server.listen((request, response) => server.handle(request, response), options.tls);
    return server;
  }

  /** Records by `$insert_id`, as Mixpanel deduplicates them. */
  byInsertId(): Map<string, MixpanelRecord[]> {
    const map = new Map<string, MixpanelRecord[]>();
    for (const record of this.records) {
      const id = String(record.properties.$insert_id);
      map.set(id, [...(map.get(id) ?? []), record]);
    }
    return map;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://local');
    const endpoint = url.pathname.endsWith('/import') ? 'import' : url.pathname.endsWith('/track') ? 'track' : undefined;
    const body = await readBody(request);
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (!endpoint) {
      response.statusCode = 404;
      return void response.end();
    }
    if (this.answeredWithFailure(response)) return;
    let data: unknown;
    if (request.method === 'GET') data = decodeData(url.searchParams.get('data') ?? '');
    else if (String(request.headers['content-type']).startsWith('application/json')) data = JSON.parse(body.toString('utf8'));
    else data = decodeData(new URLSearchParams(body.toString('utf8')).get('data') ?? '');
    const events = (Array.isArray(data) ? data : [data]) as { event: string; properties: Record<string, unknown> }[];

    const failed: { index: number; insert_id: unknown; field: string; message: string }[] = [];
    events.forEach((event, index) => {
      const record: MixpanelRecord = { endpoint, event: event.event, properties: event.properties, authorization: request.headers.authorization };
      const reason = this.refuse(record);
      if (reason) {
        failed.push({ index, insert_id: event.properties.$insert_id, field: 'properties', message: reason });
        return;
      }
      this.received += 1;
      if (this.keep) this.records.push(record);
    });
    response.setHeader('content-type', 'application/json');
    if (failed.length > 0) {
      response.statusCode = 400;
      return void response.end(
        JSON.stringify({
          code: 400,
          error: 'some data points in the request failed validation',
          status: 'Bad Request',
          num_records_imported: events.length - failed.length,
          failed_records: failed,
        }),
      );
    }
    if (endpoint === 'import') return void response.end(JSON.stringify({ code: 200, num_records_imported: events.length, status: 'OK' }));
    response.end(url.searchParams.get('verbose') === '1' ? JSON.stringify({ status: 1, error: null }) : '1');
  }
}

/** `POST /mp/collect?measurement_id=&api_secret=` like GA4's Measurement Protocol: 204 for what it takes. */
export class Ga4Server extends RecordingServer {
  readonly hits: Ga4Hit[] = [];

  static async start(tls?: { key: string; cert: string }): Promise<Ga4Server> {
    const server = new Ga4Server();
    await server.listen((request, response) => server.handle(request, response), tls);
    return server;
  }

  get endpoint(): string {
    return `${this.url}/mp/collect`;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://local');
    const body = await readBody(request);
    if (url.pathname !== '/mp/collect' || request.method !== 'POST') {
      response.statusCode = 404;
      return void response.end();
    }
    if (this.answeredWithFailure(response)) return;
    this.hits.push({ query: Object.fromEntries(url.searchParams), body: JSON.parse(body.toString('utf8')) as Ga4Hit['body'] });
    response.statusCode = 204;
    response.end();
  }
}
