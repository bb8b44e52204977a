import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '../../libs/testing/src/index.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { Client } from '../harness/http.js';
import { Recorder } from '../harness/recorder.js';
import { startService, type RunningService } from '../harness/services.js';

interface JobDict {
  job_id: string;
  job_key?: string;
  job_type: string;
  status: string;
  data: Record<string, unknown> | null;
  error: { message: string } | null;
  metadata: Record<string, unknown>;
  result_url: string | null;
  requested_timestamp: string;
  finished_timestamp: string | null;
  logs: { timestamp: string; level: string; message: string }[];
}

/** A server on a loopback address of its own that counts what reaches it (TCP connections included). */
async function listenOn(host: string, handle: (request: IncomingMessage, response: ServerResponse) => void = (_request, response) => response.end()) {
  const seen = { connections: 0, requests: [] as string[] };
  const server: Server = createServer((request, response) => {
    seen.requests.push(`${request.method} ${request.url}`);
    request.resume().on('end', () => handle(request, response));
  });
  server.on('connection', () => seen.connections++);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    seen,
    url: (path: string) => `http://${host}:${(server.address() as AddressInfo).port}${path}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("CKAN's service-provider protocol", () => {
  let context: TestContext;
  const services: RunningService[] = [];
  let anonymous: Client;
  let portal: Recorder;
  let apiKey: string;

  beforeAll(async () => {
    context = await createTestContext();
    // the portal stand-in listens on 127.0.0.1; every other loopback address stays refused
    const gateway = await startService('gateway', context, { GEOJOBS_ALLOWED_HOSTS: '127.0.0.1' });
    services.push(gateway, await startService('geo-service', context));
    const admin = await Client.admin(gateway);
    apiKey = (await admin.post<{ key: string }>('/api-keys', { name: 'ckan-portal' })).body.key;
    anonymous = admin.as(undefined);
    portal = await Recorder.start();
  });

  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await portal?.close();
    await context?.dispose();
  });

  const callbackFor = (name: string) =>
    waitFor(() => portal.requests.find((request) => request.url === `/callback/${name}`), `the callback to /callback/${name}`);

  it('runs a job submitted by a CKAN plugin and posts the job dict to its result_url', async () => {
    const submitted = await anonymous.post<JobDict>('/job', {
      job_type: 'noop',
      data: { service: 'geo', sleepMs: 60 },
      metadata: { resource_id: 'r-1', ckan_url: 'https://data.example.org' },
      result_url: `${portal.url}/callback/first`,
      api_key: apiKey,
    });
    expect(submitted.status).toBe(200);
    expect(submitted.body).toMatchObject({ job_type: 'noop', status: 'pending', data: null, error: null, job_key: expect.any(String) });
    const { job_id: jobId, job_key: jobKey } = submitted.body;

    const request = await callbackFor('first');
    expect(request.headers.authorization).toBe(apiKey);
    expect(request.headers['content-type']).toBe('application/json');
    const dict = JSON.parse(request.body) as JobDict;
    expect(dict).toMatchObject({
      job_id: jobId,
      job_type: 'noop',
      status: 'complete',
      data: { sleptMs: 60 },
      error: null,
      metadata: { resource_id: 'r-1', ckan_url: 'https://data.example.org' },
      result_url: `${portal.url}/callback/first`,
    });
    expect(dict.finished_timestamp).not.toBeNull();
    expect(dict.logs.map((log) => log.message)).toEqual(expect.arrayContaining(['noop job submitted', 'job complete']));
    expect(dict).not.toHaveProperty('job_key');

    const status = await anonymous.request<JobDict>('GET', `/job/${jobId}`, undefined, { authorization: jobKey! });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ job_id: jobId, status: 'complete' });
  });

  it('reports a failed job as status error with its message', async () => {
    const { body } = await anonymous.post<JobDict>('/job', {
      job_type: 'noop',
      data: { service: 'geo', fail: 'the resource is not a GIS file' },
      result_url: `${portal.url}/callback/failing`,
      api_key: apiKey,
    });
    const request = await callbackFor('failing');
    expect(JSON.parse(request.body)).toMatchObject({
      job_id: body.job_id,
      status: 'error',
      error: { message: 'the resource is not a GIS file' },
    });
  });

  it('keeps the protocol errors: 409 for a malformed request, 403 and 404 on reading', async () => {
    const base = { job_type: 'noop', data: { service: 'geo' }, api_key: apiKey };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...base, surprise: 1 }, /unknown keys: surprise/],
      [{ ...base, job_type: 'datapusher' }, /job_type must be one of the available job types: noop, geo\.preview, analytics\.track/],
      [{ ...base, result_url: 'ftp://portal/cb' }, /result_url must start with http/],
      [{ ...base, api_key: undefined }, /api_key is missing/],
      [{ ...base, metadata: 'resource 1' }, /metadata must be an object/],
      [{ ...base, data: { service: 'mars' } }, /invalid data: input\.service/],
    ];
    for (const [body, error] of cases) {
      const reply = await anonymous.post<{ error: string }>('/job', body);
      expect([reply.status, reply.body.error]).toEqual([409, expect.stringMatching(error)]);
    }
    expect((await anonymous.post<{ error: string }>('/job', { ...base, api_key: 'not-a-key' })).status).toBe(403);

    const { body } = await anonymous.post<JobDict>('/job', base);
    const wrongKey = await anonymous.request<{ error: string }>('GET', `/job/${body.job_id}`, undefined, { authorization: 'guess' });
    expect(wrongKey.status).toBe(403);
    expect(wrongKey.body.error).toMatch(/job_key/);
    expect((await anonymous.get<{ error: string }>(`/job/${body.job_id}`)).status).toBe(403);
    expect((await anonymous.get<{ error: string }>('/job/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  describe('result_url is an address a client gave: the host policy applies', () => {
    /** Polls `GET /job/:id` until its logs say what became of the callback. */
    const callbackLog = (jobId: string, jobKey: string) =>
      waitFor(
        async () => {
          const reply = await anonymous.request<JobDict>('GET', `/job/${jobId}`, undefined, { authorization: jobKey });
          return reply.body.logs.find((log) => /result_url|callback/.test(log.message));
        },
        `the callback's outcome in the logs of job ${jobId}`,
        { intervalMs: 100 },
      );

    const submit = async (resultUrl: string) => {
      const { body } = await anonymous.post<JobDict>('/job', { job_type: 'noop', data: { service: 'geo' }, result_url: resultUrl, api_key: apiKey });
      return { jobId: body.job_id, jobKey: body.job_key! };
    };

    it('never calls a result_url on a loopback or link-local address that is not allow-listed, and the job says why', async () => {
      // 127.0.0.2 is loopback like the allowed 127.0.0.1, and answers: only the policy keeps the gateway away
      const internal = await listenOn('127.0.0.2');
      try {
        const loopback = await submit(internal.url('/admin/reset'));
        expect(await callbackLog(loopback.jobId, loopback.jobKey)).toMatchObject({
          level: 'ERROR',
          message: 'result_url not called: 127.0.0.2 is a loopback address: not a public address and not in GEOJOBS_ALLOWED_HOSTS',
        });
        const metadata = await submit('http://169.254.169.254/latest/meta-data/iam/security-credentials/');
        expect(await callbackLog(metadata.jobId, metadata.jobKey)).toMatchObject({
          level: 'ERROR',
          message: 'result_url not called: 169.254.169.254 is a link-local address: not a public address and not in GEOJOBS_ALLOWED_HOSTS',
        });
        const status = await anonymous.request<JobDict>('GET', `/job/${loopback.jobId}`, undefined, { authorization: loopback.jobKey });
        expect(status.body).toMatchObject({ status: 'complete', result_url: internal.url('/admin/reset') });
        expect(internal.seen).toEqual({ connections: 0, requests: [] });
      } finally {
        await internal.close();
      }
    });

    it('does not follow a redirect from an allowed result_url to a loopback address that is not allowed', async () => {
      const internal = await listenOn('127.0.0.2');
      const redirecting = await listenOn('127.0.0.1', (_request, response) => response.writeHead(307, { location: internal.url('/admin/reset') }).end());
      try {
        const { jobId, jobKey } = await submit(redirecting.url('/callback/redirecting'));
        expect(await callbackLog(jobId, jobKey)).toMatchObject({
          level: 'ERROR',
          message: expect.stringMatching(/^the portal answered 307 to the callback \(redirects are not followed\)/),
        });
        // a 3xx is final: asked once, not retried, and its target never reached
        expect(redirecting.seen.requests).toEqual(['POST /callback/redirecting']);
        expect(internal.seen).toEqual({ connections: 0, requests: [] });
      } finally {
        await Promise.all([internal.close(), redirecting.close()]);
      }
    });

    it('records a delivered callback in the logs too', async () => {
      const { jobId, jobKey } = await submit(`${portal.url}/callback/logged`);
      await callbackFor('logged');
      expect(await callbackLog(jobId, jobKey)).toMatchObject({ level: 'INFO', message: 'result_url answered 200' });
    });
  });
});
