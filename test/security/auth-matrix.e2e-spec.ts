import { createHmac, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createTestContext, type TestContext } from '../harness/context.js';
import { readHarness } from '../harness/global-setup.js';
import { Client, type Reply } from '../harness/http.js';
import { submitJob } from '../harness/jobs.js';
import { startService, storageDir, type RunningService } from '../harness/services.js';

type Role = 'admin' | 'portal' | 'reader';
const ROLES: readonly Role[] = ['admin', 'portal', 'reader'];

/**
 * Who may call a route: `public` routes take no credential (or one of their own protocol's); the others name the roles
 * allowed, and `owned` says the path names a job (or a thing of its) that only its owner and admins may see: another
 * owner gets the 404 of a job that does not exist.
 */
type Rule = { public: true } | { roles: readonly Role[]; owned?: true };

const anyone = { roles: ROLES } as const;
const writers = { roles: ['admin', 'portal'] } as const;
const admins = { roles: ['admin'] } as const;

/**
 * The rule of every route the gateway's OpenAPI document lists, by `METHOD /path` as the document writes it. A route
 * added without a rule here fails the test: a new route is a decision about who may call it.
 */
const RULES: Record<string, Rule> = {
  'GET /health': { public: true },
  'POST /token': { public: true },
  'POST /tokens/temporary': anyone,
  'POST /users': admins,
  'POST /api-keys': admins,
  'DELETE /api-keys/{id}': admins,
  'GET /metrics': { roles: ['admin', 'reader'] },
  'GET /files': admins,
  'POST /jobs': writers,
  'GET /jobs': anyone,
  'GET /jobs/{id}': { ...anyone, owned: true },
  'GET /jobs/{id}/tree': { ...anyone, owned: true },
  'GET /jobs/{id}/events': { ...anyone, owned: true },
  'POST /jobs/{id}/cancel': { ...writers, owned: true },
  'GET /jobs/{id}/result': { ...anyone, owned: true },
  'GET /jobs/count': anyone,
  'GET /jobs/changes': anyone,
  'POST /jobs/bulk/{action}': writers,
  'POST /jobs/{id}/retry': { ...writers, owned: true },
  'GET /queues': { roles: ['admin', 'reader'] },
  'GET /queues/{queue}/dead-letters': { roles: ['admin', 'reader'] },
  'POST /queues/{queue}/dead-letters/replay': admins,
  'POST /queues/{queue}/dead-letters/discard': admins,
  'POST /exports': writers,
  'POST /geopreview': writers,
  'GET /layers/{id}': anyone,
  'DELETE /layers/{id}': writers,
  'POST /analytics/events': writers,
  'GET /api/add-layer/dataset/{datasetId}/resource/{resourceId}': writers,
  'POST /api/delete-one-layer/{resourceId}': writers,
  'POST /api/send-analytics': writers,
  // tiles are public by default (maps fetch them without credentials); GEOJOBS_PUBLIC_TILES=false is tested with tiles
  'GET /layers/{id}/tiles/{z}/{x}/{y}.mvt': { public: true },
  'GET /gis/services/postgis/{id}/{column}/vector-tiles/{z}/{x}/{y}.pbf': { public: true },
  'GET /boundaries': anyone,
  'GET /boundaries/search': anyone,
  'GET /boundaries/{name}': anyone,
  'GET /processors': anyone,
  'GET /processors/{name}': anyone,
  'GET /processors/{name}/{version}': anyone,
  'GET /packages': anyone,
  'GET /packages/{boundary}': anyone,
  // CCG's irv-autopkg API: its catalogue and probes were public there and stay so; jobs have owners here
  'GET /v1/liveness': { public: true },
  'GET /v1/readiness': { public: true },
  'GET /v1/boundaries': { public: true },
  'GET /v1/boundaries/search': { public: true },
  'GET /v1/boundaries/{name}': { public: true },
  'GET /v1/processors': { public: true },
  'GET /v1/processors/{name}': { public: true },
  'GET /v1/processors/{name}/{version}': { public: true },
  'GET /v1/packages': { public: true },
  'GET /v1/packages/{boundary_name}': { public: true },
  'POST /v1/jobs': writers,
  'GET /v1/jobs/{job_id}': { ...anyone, owned: true },
  // SMS-Rio's export API
  'POST /export': writers,
  'GET /check/{id}': { ...anyone, owned: true },
  'GET /list': anyone,
  'GET /clear': admins,
  // CKAN's service-provider protocol: its own credentials, the body's api_key and the job_key (checked below)
  'POST /job': { public: true },
  'GET /job/{id}': { public: true },
};

interface OpenApi {
  paths: Record<string, Record<string, unknown>>;
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** An HS256 token signed with the gateway's secret, with the claims given: what an attacker cannot make, or an old one. */
function signedToken(claims: Record<string, unknown>): string {
  const unsigned = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}`;
  const signature = createHmac('sha256', readHarness().env.GEOJOBS_JWT_SECRET).update(unsigned).digest('base64url');
  return `${unsigned}.${signature}`;
}

describe('the auth matrix: every route of the OpenAPI document against every kind of bad credential (real gateway)', () => {
  let context: TestContext;
  let gateway: RunningService;
  let admin: Client;
  let routes: { method: string; path: string }[];
  const as: Record<string, Client> = {};
  let alicesJob: string;
  let revokedKey: string;
  let scopedToken: string;
  const SECRET_MARK = `alice-only-${randomUUID()}`;

  beforeAll(async () => {
    context = await createTestContext();
    gateway = await startService('gateway', context);
    admin = await Client.admin(gateway);
    for (const [username, role] of [
      ['alice', 'portal'],
      ['bob', 'portal'],
      ['rita', 'reader'],
    ] as const) {
      expect((await admin.post('/users', { username, password: `${username} password 123`, role })).status).toBe(201);
      const { body } = await admin.post<{ access_token: string }>('/token', { username, password: `${username} password 123` });
      as[username] = admin.as(`Bearer ${body.access_token}`);
    }
    as.admin = admin;
    // nothing runs noop jobs here: alice's job stays queued, with her input
    alicesJob = (await submitJob(as.alice, { type: 'noop', input: { service: 'geo', fail: SECRET_MARK } })).id;

    const key = await admin.post<{ id: string; key: string }>('/api-keys', { name: 'old-portal', role: 'portal' });
    expect((await admin.as(`ApiKey ${key.body.key}`).get('/jobs')).status).toBe(200);
    expect((await admin.request('DELETE', `/api-keys/${key.body.id}`)).status).toBe(204);
    revokedKey = key.body.key;

    const minted = await as.alice.post<{ access_token: string }>('/tokens/temporary', { methods: ['GET'], paths: [`/jobs/${alicesJob}/result`] });
    scopedToken = minted.body.access_token;

    const document = (await admin.get<OpenApi>('/openapi.json')).body;
    routes = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations)
        .filter((method) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .map((method) => ({ method: method.toUpperCase(), path })),
    );
  });

  afterAll(async () => {
    await gateway?.stop();
    await context?.dispose();
    if (context) await rm(storageDir(context), { recursive: true, force: true });
  });

  /** The route's path with its parameters filled: `{id}` is alice's job, so that owned routes name a real one. */
  const concrete = (path: string) =>
    path
      .replace(/\{(id|job_id)\}/, alicesJob)
      .replace(/\{(z|x|y)\}/g, '1')
      .replace(/\{[^}]+\}/g, 'pre_nothing_here');

  /** One request; a stream (server-sent events) is read no further than its status, then closed. */
  async function call(client: Client, route: { method: string; path: string }, path = concrete(route.path)): Promise<Reply> {
    if (!(route.method === 'GET' && route.path.endsWith('/events')))
      return client.request(route.method, path, route.method === 'GET' || route.method === 'DELETE' ? undefined : {});
    const response = await fetch(`${client.baseUrl}${path}`, { headers: client.authorization ? { authorization: client.authorization } : {} });
    if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
      await response.body?.cancel();
      return { status: response.status, body: undefined, headers: response.headers };
    }
    const body = await response.json();
    return { status: response.status, body, headers: response.headers };
  }

  it('has a rule for every route the OpenAPI document lists', () => {
    expect(routes.length).toBeGreaterThan(20);
    const unruled = routes.map((route) => `${route.method} ${route.path}`).filter((route) => !(route in RULES));
    expect(unruled).toEqual([]);
    // and no rule for a route that is gone
    expect(Object.keys(RULES).filter((rule) => !routes.some((route) => `${route.method} ${route.path}` === rule))).toEqual([]);
  });

  it('answers 401 to no credential, a tampered, an expired or a forged token and a revoked API key, on every non-public route', async () => {
    const [header, payload] = as.alice.authorization!.slice('Bearer '.length).split('.');
    const tampered = `${header}.${base64url(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), role: 'admin' }))}.xxxx`;
    const expired = signedToken({ sub: 'alice', role: 'portal', typ: 'access', exp: Math.floor(Date.now() / 1000) - 60 });
    const wrongKind = signedToken({ sub: 'alice', role: 'admin', typ: 'refresh', exp: Math.floor(Date.now() / 1000) + 600 });
    const credentials: Record<string, string | undefined> = {
      none: undefined,
      tampered: `Bearer ${tampered}`,
      expired: `Bearer ${expired}`,
      'unknown token type': `Bearer ${wrongKind}`,
      'revoked API key': `ApiKey ${revokedKey}`,
      'revoked API key, bare as CKAN sends it': revokedKey,
      'garbage scheme': 'Basic YWxpY2U6cGFzc3dvcmQ=',
    };
    const wrong: string[] = [];
    for (const route of routes.filter((route) => !('public' in RULES[`${route.method} ${route.path}`]))) {
      for (const [what, authorization] of Object.entries(credentials)) {
        const reply = await call(admin.as(authorization), route);
        if (reply.status !== 401) wrong.push(`${route.method} ${route.path} with ${what}: ${reply.status}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('answers 403 to a role the route does not allow, and to a scoped token outside its scope', async () => {
    const wrong: string[] = [];
    for (const route of routes) {
      const rule = RULES[`${route.method} ${route.path}`];
      if ('public' in rule) continue;
      for (const role of ROLES.filter((role) => !rule.roles.includes(role))) {
        const client = role === 'admin' ? as.admin : role === 'portal' ? as.alice : as.rita;
        const reply = await call(client, route);
        if (reply.status !== 403) wrong.push(`${route.method} ${route.path} as ${role}: ${reply.status}`);
      }
      if (!(route.method === 'GET' && route.path === '/jobs/{id}/result')) {
        const reply = await call(admin.as(`TmpToken ${scopedToken}`), route);
        if (reply.status !== 403) wrong.push(`${route.method} ${route.path} with a token scoped to GET its result: ${reply.status}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("never shows one owner's job to another: 404, as for a job that does not exist, and none of its data", async () => {
    const wrong: string[] = [];
    for (const route of routes.filter((route) => (RULES[`${route.method} ${route.path}`] as { owned?: true }).owned)) {
      for (const intruder of ['bob']) {
        const reply = await call(as[intruder], route);
        if (reply.status !== 404 || JSON.stringify(reply.body ?? '').includes(SECRET_MARK)) {
          wrong.push(`${route.method} ${route.path} as ${intruder}: ${reply.status} ${JSON.stringify(reply.body)}`);
        }
      }
      // the owner and an admin do get past the owner check, and so does a reader, who sees everything (and changes nothing)
      for (const owner of route.method === 'GET' ? ['alice', 'admin', 'rita'] : ['alice', 'admin']) {
        const reply = await call(as[owner], route);
        if ([401, 403].includes(reply.status) || (reply.status === 404 && JSON.stringify(reply.body).includes(`no job ${alicesJob}`))) {
          wrong.push(`${route.method} ${route.path} as ${owner}: ${reply.status}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    const list = await as.bob.get<{ id: string }[]>('/jobs');
    expect(list.body.map((job) => job.id)).not.toContain(alicesJob);
    const everyone = await as.bob.get<{ id: string }[]>('/jobs?owner=alice');
    expect(everyone.body.map((job) => job.id)).not.toContain(alicesJob);
  });

  it('takes the scoped token for what it allows, and a temporary token cannot mint a wider one', async () => {
    expect((await admin.as(`TmpToken ${scopedToken}`).get(`/jobs/${alicesJob}/result`)).status).toBe(404); // allowed through: alice's queued job has no file yet
    const widened = await admin.as(`TmpToken ${scopedToken}`).post<{ access_token: string }>('/tokens/temporary', { methods: ['GET'], paths: ['/jobs'] });
    expect(widened.status).toBe(403);
  });

  it("keeps the CKAN protocol's own credentials: a missing, revoked or reader api_key, a wrong job_key", async () => {
    const body = { job_type: 'noop', data: { service: 'geo' }, result_url: 'https://portal.example.org/done' };
    const missing = await admin.as(undefined).post<{ error: string }>('/job', body);
    expect(missing).toMatchObject({ status: 409, body: { error: 'api_key is missing' } });
    const revoked = await admin.as(undefined).post<{ error: string }>('/job', { ...body, api_key: revokedKey });
    expect(revoked).toMatchObject({ status: 403, body: { error: 'api_key is not a portal API key of this service' } });
    const reader = await admin.post<{ key: string }>('/api-keys', { name: 'a-reader', role: 'reader' });
    expect((await admin.as(undefined).post('/job', { ...body, api_key: reader.body.key })).status).toBe(403);
    const portal = await admin.post<{ key: string }>('/api-keys', { name: 'the-portal', role: 'portal' });
    const created = await admin.as(undefined).post<{ job_id: string; job_key: string }>('/job', { ...body, api_key: portal.body.key });
    expect(created.status).toBe(200);
    const other = await admin.as('not-the-job-key').get<{ error: string }>(`/job/${created.body.job_id}`);
    expect(other.status).toBe(403);
    expect((await admin.as(undefined).get(`/job/${created.body.job_id}`)).status).toBe(403);
    expect((await admin.as(created.body.job_key).get(`/job/${created.body.job_id}`)).status).toBe(200);
  });
});
