import type { LookupAddress } from 'node:dns';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HostPolicy, type Resolver } from './host-policy.js';
import { HttpClient, HttpRequestError, type FailedTry } from './http-client.js';

/** A loopback server that records what reaches it and answers with `handle`. */
class TestServer {
  readonly requests: { method: string; url: string; host: string; body: string }[] = [];
  connections = 0;
  handle: (request: IncomingMessage, response: ServerResponse) => void = (_request, response) => response.end('ok');
  private readonly server: Server;

  private constructor(readonly host: string) {
    this.server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        this.requests.push({ method: request.method ?? '', url: request.url ?? '', host: request.headers.host ?? '', body });
        this.handle(request, response);
      });
    });
    this.server.on('connection', () => this.connections++);
  }

  static async start(host = '127.0.0.1'): Promise<TestServer> {
    const server = new TestServer(host);
    await new Promise<void>((resolve) => server.server.listen(0, host, resolve));
    return server;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = '/', host = this.host): string {
    return `http://${host}:${this.port}${path}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A resolver that answers every name with these addresses, as a DNS server under an attacker's control could. */
const answering =
  (addresses: string[], calls: string[] = []): Resolver =>
  (hostname, _options, callback) => {
    calls.push(hostname);
    callback(
      null,
      addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  };

const fast = { attempts: 3, backoff: { baseMs: 10, maxMs: 2_000 } };

describe('HttpClient', () => {
  let allowed: TestServer;
  let other: TestServer;
  const clients: HttpClient[] = [];
  const client = (policy: HostPolicy | null) => {
    const made = new HttpClient({ policy, connectTimeoutMs: 1_000 });
    clients.push(made);
    return made;
  };

  beforeAll(async () => {
    allowed = await TestServer.start('127.0.0.1');
    // loopback too, but not in the allow-lists below
    other = await TestServer.start('127.0.0.2');
  });

  afterAll(async () => {
    await Promise.all(clients.map((made) => made.close()));
    await Promise.all([allowed.close(), other.close()]);
  });

  beforeEach(() => {
    for (const server of [allowed, other]) {
      server.requests.length = 0;
      server.connections = 0;
      server.handle = (_request, response) => response.end('ok');
    }
  });

  describe('host policy', () => {
    it('refuses a loopback address that is not allow-listed before connecting', async () => {
      const http = client(new HostPolicy(['127.0.0.1']));
      await expect(http.post(other.url('/hook'), '{}', { timeoutMs: 1_000, retry: fast })).rejects.toMatchObject({
        name: 'AddressNotAllowedError',
        message: '127.0.0.2 is a loopback address: not a public address and not in GEOJOBS_ALLOWED_HOSTS',
      });
      expect(other.connections).toBe(0);
      expect((await http.post(allowed.url('/hook'), '{}', { timeoutMs: 1_000 })).status).toBe(200);
    });

    it('refuses cloud metadata (169.254.169.254) and IPv4-mapped IPv6 spellings of loopback', async () => {
      const http = client(new HostPolicy([]));
      await expect(http.post('http://169.254.169.254/latest/meta-data/', '', { timeoutMs: 1_000 })).rejects.toMatchObject({ kind: 'link-local' });
      await expect(http.post(`http://[::ffff:127.0.0.1]:${allowed.port}/`, '', { timeoutMs: 1_000 })).rejects.toMatchObject({ kind: 'loopback' });
      expect(allowed.connections).toBe(0);
    });

    it('refuses a name that resolves to a private address before connecting', async () => {
      const http = client(new HostPolicy([], answering(['127.0.0.1'])));
      await expect(http.post(allowed.url('/hook', 'innocent.example'), '{}', { timeoutMs: 1_000 })).rejects.toMatchObject({
        name: 'AddressNotAllowedError',
        message: 'innocent.example (127.0.0.1) is a loopback address: not a public address and not in GEOJOBS_ALLOWED_HOSTS',
      });
      expect(allowed.connections).toBe(0);
    });

    it('connects to the address it checked, looked up once per connection', async () => {
      // "files.internal" is in no DNS: the request can only have reached the server through the address checked
      const calls: string[] = [];
      const http = client(new HostPolicy(['files.internal'], answering(['127.0.0.1'], calls)));
      const answer = await http.post(allowed.url('/pinned', 'files.internal'), 'body', { timeoutMs: 1_000 });
      expect(answer).toMatchObject({ status: 200, body: 'ok' });
      expect(allowed.requests).toEqual([{ method: 'POST', url: '/pinned', host: `files.internal:${allowed.port}`, body: 'body' }]);
      expect(calls).toEqual(['files.internal']);
    });

    it('allows loopback addresses by CIDR range', async () => {
      const http = client(new HostPolicy(['127.0.0.0/30']));
      expect((await http.post(other.url('/'), '', { timeoutMs: 1_000 })).status).toBe(200);
    });
  });

  describe('redirects', () => {
    it('are not followed: a 3xx is the answer and its target hears nothing', async () => {
      allowed.handle = (_request, response) => response.writeHead(302, { location: other.url('/internal') }).end();
      const http = client(new HostPolicy(['127.0.0.1']));
      const answer = await http.post(allowed.url('/moved'), '{}', { timeoutMs: 1_000, retry: fast });
      expect(answer.status).toBe(302);
      expect(answer.headers.location).toBe(other.url('/internal'));
      expect(allowed.requests).toHaveLength(1);
      expect(other.connections).toBe(0);
    });

    it('are checked again when a caller follows one: the hop goes through the policy', async () => {
      allowed.handle = (_request, response) => response.writeHead(302, { location: other.url('/internal') }).end();
      const http = client(new HostPolicy(['127.0.0.1']));
      const first = await http.get(allowed.url('/file'), { timeoutMs: 1_000 });
      await first.body.dump();
      await expect(http.get(new URL(first.headers.location as string, allowed.url()), { timeoutMs: 1_000 })).rejects.toMatchObject({ kind: 'loopback' });
      expect(other.connections).toBe(0);
    });
  });

  describe('retries', () => {
    const failingFirst = (count: number, status: number, headers: Record<string, string> = {}) => {
      let seen = 0;
      return (_request: IncomingMessage, response: ServerResponse) =>
        ++seen <= count ? response.writeHead(status, headers).end('busy') : response.end('done');
    };

    it.each([500, 502, 503, 408, 429])('retries a %i with backoff, telling the caller about each failed try', async (status) => {
      allowed.handle = failingFirst(2, status);
      const failed: FailedTry[] = [];
      const answer = await client(null).post(allowed.url('/'), 'x', { timeoutMs: 1_000, retry: fast, onRetry: (one) => void failed.push(one) });
      expect(answer).toMatchObject({ status: 200, body: 'done' });
      expect(allowed.requests.map((request) => request.body)).toEqual(['x', 'x', 'x']);
      expect(failed.map(({ attempt, status: seen, error }) => ({ attempt, status: seen, error }))).toEqual([
        { attempt: 1, status, error: null },
        { attempt: 2, status, error: null },
      ]);
      expect(failed[0].delayMs).toBeGreaterThanOrEqual(5);
      expect(failed[1].delayMs).toBeGreaterThanOrEqual(10);
    });

    it('answers with the last status once the tries are spent', async () => {
      allowed.handle = failingFirst(10, 503);
      const answer = await client(null).post(allowed.url('/'), 'x', { timeoutMs: 1_000, retry: fast });
      expect(answer).toMatchObject({ status: 503, body: 'busy' });
      expect(allowed.requests).toHaveLength(3);
    });

    it('retries a GET (getText) as it does a POST, and reads its answer', async () => {
      allowed.handle = failingFirst(2, 503);
      const answer = await client(null).getText(allowed.url('/api/3/action/package_show?id=roads'), { timeoutMs: 1_000, retry: fast });
      expect(answer).toMatchObject({ status: 200, body: 'done' });
      expect(allowed.requests.map((request) => `${request.method} ${request.url}`)).toEqual(Array(3).fill('GET /api/3/action/package_show?id=roads'));
    });

    it.each([400, 401, 403, 404, 409, 422])('takes a %i as final: one try', async (status) => {
      allowed.handle = failingFirst(10, status);
      const failed: FailedTry[] = [];
      const answer = await client(null).post(allowed.url('/'), 'x', { timeoutMs: 1_000, retry: fast, onRetry: (one) => void failed.push(one) });
      expect(answer.status).toBe(status);
      expect(allowed.requests).toHaveLength(1);
      expect(failed).toEqual([]);
    });

    it('honours Retry-After', async () => {
      allowed.handle = failingFirst(1, 429, { 'retry-after': '1' });
      const failed: FailedTry[] = [];
      const started = Date.now();
      const answer = await client(null).post(allowed.url('/'), 'x', { timeoutMs: 1_000, retry: fast, onRetry: (one) => void failed.push(one) });
      expect(answer.status).toBe(200);
      expect(failed[0].delayMs).toBe(1_000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    });

    it('retries a timeout, then gives up saying so', async () => {
      allowed.handle = () => undefined; // never answers
      const failed: FailedTry[] = [];
      const error = await client(null)
        .post(allowed.url('/'), 'x', { timeoutMs: 200, retry: fast, onRetry: (one) => void failed.push(one) })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(HttpRequestError);
      expect(error).toMatchObject({ message: 'no answer within 200 ms (3 tries)', attempts: 3, retryable: true });
      expect(failed.map((one) => [one.status, (one.error as { code?: string }).code])).toEqual([
        [null, 'UND_ERR_HEADERS_TIMEOUT'],
        [null, 'UND_ERR_HEADERS_TIMEOUT'],
      ]);
      expect(allowed.requests).toHaveLength(3);
    });

    it('retries a network error', async () => {
      const closed = await TestServer.start();
      const url = closed.url('/');
      await closed.close();
      const error = await client(null)
        .post(url, 'x', { timeoutMs: 1_000, retry: fast })
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ name: 'HttpRequestError', attempts: 3, retryable: true, message: expect.stringContaining('ECONNREFUSED') });
    });

    it('does not retry a refused address', async () => {
      const failed: FailedTry[] = [];
      await expect(
        client(new HostPolicy([])).post(other.url('/'), 'x', { timeoutMs: 1_000, retry: fast, onRetry: (one) => void failed.push(one) }),
      ).rejects.toMatchObject({ name: 'AddressNotAllowedError' });
      expect(failed).toEqual([]);
    });

    it('stops waiting when the caller gives up', async () => {
      allowed.handle = failingFirst(10, 503, { 'retry-after': '60' });
      const controller = new AbortController();
      const sent = client(null).post(allowed.url('/'), 'x', {
        timeoutMs: 1_000,
        retry: { attempts: 5, backoff: { baseMs: 10, maxMs: 120_000 } },
        signal: controller.signal,
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      controller.abort(new Error('cancelled'));
      await expect(sent).rejects.toThrow('cancelled');
      expect(allowed.requests).toHaveLength(1);
    });
  });

  it('keeps connections alive: later requests reuse the pool', async () => {
    const http = new HttpClient({ policy: null, connectTimeoutMs: 1_000, connections: 1, keepAliveMs: 10_000 });
    clients.push(http);
    for (let i = 0; i < 5; i++) expect((await http.post(allowed.url('/'), 'x', { timeoutMs: 1_000 })).status).toBe(200);
    expect(allowed.connections).toBe(1);
  });
});
