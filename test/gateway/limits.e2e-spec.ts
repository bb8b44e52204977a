import pg from 'pg';
import { QUEUE_HEADROOM } from '../../apps/gateway/src/sagas/saga.coordinator.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { Client, type Reply } from '../harness/http.js';
import type { Job } from '../harness/jobs.js';
import { startService, type RunningService } from '../harness/services.js';

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

/**
 * The limits that keep one client from hurting the others, on real gateways over PostgreSQL: a cap on each owner's
 * unfinished jobs, and a request rate per credential. No service consumes the jobs here, so they stay queued.
 */
describe('per-client limits (real gateway, PostgreSQL)', () => {
  const CAP = 5;
  const RATE = 10;
  let context: TestContext;
  let capped: RunningService;
  let rated: RunningService;
  /** A cap past the headroom that small submissions leave, so that they take the shared way until they near it. */
  const ROOMY_CAP = QUEUE_HEADROOM + 50;
  let roomy: RunningService;
  let db: pg.Client;

  beforeAll(async () => {
    context = await createTestContext();
    [capped, rated, roomy] = await Promise.all([
      startService('gateway', context, { GEOJOBS_MAX_QUEUED_PER_OWNER: String(CAP) }),
      startService('gateway', context, { GEOJOBS_RATE_LIMIT_PER_MINUTE: String(RATE) }),
      startService('gateway', context, { GEOJOBS_MAX_QUEUED_PER_OWNER: String(ROOMY_CAP) }),
    ]);
    db = new pg.Client({ connectionString: context.databaseUrls.admin });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await Promise.all([capped, rated, roomy].map((gateway) => gateway?.stop()));
    await context?.dispose();
  });

  /** Each gateway's admin, logged in once (logins are throttled per address). */
  const admins = new Map<RunningService, Promise<Client>>();
  const adminOf = (gateway: RunningService): Promise<Client> => {
    if (!admins.has(gateway)) admins.set(gateway, Client.admin(gateway));
    return admins.get(gateway)!;
  };

  /** A client with a new API key of its own, for `owner`. */
  const portal = async (gateway: RunningService, name: string, owner = name): Promise<Client> => {
    const admin = await adminOf(gateway);
    const { body } = await admin.post<{ key: string }>('/api-keys', { name, owner });
    return admin.as(`ApiKey ${body.key}`);
  };

  /** `count` distinct noop jobs (the same input twice would be one job). */
  const noops = (label: string, count: number) =>
    Array.from({ length: count }, (_, index) => ({ type: 'noop', input: { service: 'geo', fail: `${label} ${index}` } }));

  /** The owner's unfinished top-level jobs, as the database holds them. */
  const unfinished = async (owner: string): Promise<number> => {
    const { rows } = await db.query<{ count: string }>(
      `SELECT count(*) FROM jobs.jobs WHERE owner = $1 AND parent_id IS NULL AND state IN ('queued', 'running')`,
      [owner],
    );
    return Number(rows[0].count);
  };

  const expectQueueFull = (reply: Reply<unknown>) => {
    expect(reply.status).toBe(429);
    expect(reply.headers.get('retry-after')).toBe('30');
    expect((reply.body as ErrorBody).message).toContain(`at most ${CAP} unfinished`);
    expect((reply.body as ErrorBody).message).toContain('GEOJOBS_MAX_QUEUED_PER_OWNER');
  };

  describe('the cap on unfinished jobs per owner', () => {
    it("refuses one owner's bulk submission past the cap, whole, while another owner still submits", async () => {
      const [a, b] = await Promise.all([portal(capped, 'bulk-a'), portal(capped, 'bulk-b')]);
      expect((await a.post<Job[]>('/jobs', noops('a first', 4))).status).toBe(202);

      const refused = await a.post('/jobs', noops('a second', 2));
      expectQueueFull(refused);
      expect(await unfinished('bulk-a')).toBe(4); // nothing of the refused array was written

      const other = await b.post<Job[]>('/jobs', noops('b', CAP));
      expect(other.status).toBe(202);
      expect(other.body).toHaveLength(CAP);

      expect((await a.post('/jobs', noops('a third', 1)[0])).status).toBe(202); // exactly at the cap
      expectQueueFull(await a.post('/jobs', noops('a fourth', 1)[0]));
      expect(await unfinished('bulk-a')).toBe(CAP);
    });

    it('refuses through the other entries that create jobs, and takes a duplicate (which creates nothing)', async () => {
      const a = await portal(capped, 'entries-a');
      const accepted = await a.post<Job[]>('/jobs', noops('entries', CAP));
      expect(accepted.status).toBe(202);

      expectQueueFull(await a.post('/analytics/events', { event: 'dataset view', distinctId: 'user-1', properties: {} }));
      expectQueueFull(await a.post('/geopreview', { datasetId: 'roads', resourceId: 'roads-1', url: 'https://example.org/roads.geojson' }));

      const again = await a.post<Job>('/jobs', noops('entries', 1)[0]); // the same type and input as a queued job
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(accepted.body[0].id);
      expect(await unfinished('entries-a')).toBe(CAP);
    });

    it('counts only unfinished jobs: a cancelled one frees its place', async () => {
      const a = await portal(capped, 'cancel-a');
      const accepted = await a.post<Job[]>('/jobs', noops('cancel', CAP));
      expectQueueFull(await a.post('/jobs', noops('cancel more', 1)));
      expect((await a.post(`/jobs/${accepted.body[0].id}/cancel`)).status).toBe(200);
      expect((await a.post('/jobs', noops('cancel more', 1))).status).toBe(202);
    });

    it("does not count a saga's subtasks, which the system creates", async () => {
      const a = await portal(capped, 'saga-a');
      const saga = await a.post<Job>('/jobs', { type: 'noop', input: { service: 'geo', children: 3 * CAP } });
      expect(saga.status).toBe(202);
      const { rows } = await db.query<{ count: string }>('SELECT count(*) FROM jobs.jobs WHERE parent_id = $1', [saga.body.id]);
      expect(Number(rows[0].count)).toBe(3 * CAP);
      expect((await a.post('/jobs', noops('after the saga', CAP - 1))).status).toBe(202);
      expectQueueFull(await a.post('/jobs', noops('past the cap', 1)));
    });

    it('lets no burst of concurrent submissions of one owner past the cap', async () => {
      const a = await portal(capped, 'burst-a');
      const replies = await Promise.all(noops('burst', 4 * CAP).map((job) => a.post('/jobs', job)));
      const statuses = replies.map((reply) => reply.status);
      expect(statuses.filter((status) => status === 202)).toHaveLength(CAP);
      expect(statuses.filter((status) => status === 429)).toHaveLength(3 * CAP);
      expect(await unfinished('burst-a')).toBe(CAP);
    });

    it('lets small concurrent submissions far from the cap run side by side, and still stops them exactly at it', async () => {
      const a = await portal(roomy, 'side-by-side');
      const replies = await Promise.all(noops('side', ROOMY_CAP + 40).map((job) => a.post('/jobs', job)));
      const statuses = replies.map((reply) => reply.status);
      expect(statuses.filter((status) => status === 202)).toHaveLength(ROOMY_CAP); // one gateway: not one past the cap
      expect(statuses.filter((status) => status === 429)).toHaveLength(40);
      expect(await unfinished('side-by-side')).toBe(ROOMY_CAP);
    });

    it("makes a submission that needs no count still wait for one that holds the owner's queue lock exclusively", async () => {
      const a = await portal(roomy, 'waits-for-lock');
      expect((await a.post('/jobs', noops('counted', 1)[0])).status).toBe(202); // counted: the next one need not count
      const holder = new pg.Client({ connectionString: context.databaseUrls.admin });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query(`SELECT pg_advisory_xact_lock(hashtextextended('geojobs.owner-queue:' || $1, 0))`, ['waits-for-lock']);
        const submitted = a.post('/jobs', noops('behind the lock', 1)[0]);
        const first = await Promise.race([submitted.then(() => 'answered'), new Promise((resolve) => setTimeout(resolve, 1_000, 'waiting'))]);
        expect(first).toBe('waiting');
        expect(await unfinished('waits-for-lock')).toBe(1);
        await holder.query('COMMIT');
        expect((await submitted).status).toBe(202);
        expect(await unfinished('waits-for-lock')).toBe(2);
      } finally {
        await holder.end();
      }
    });
  });

  describe('the request rate per credential', () => {
    it('answers 429 with Retry-After past the limit for one API key while another key is served', async () => {
      const [a, b] = await Promise.all([portal(rated, 'rate-a'), portal(rated, 'rate-b')]);
      for (let request = 0; request < RATE; request++) expect((await a.get('/jobs')).status).toBe(200);
      const refused = await a.get<ErrorBody>('/jobs');
      expect(refused.status).toBe(429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(refused.body.message).toContain(`more than ${RATE} requests in a minute`);
      expect((await a.post('/jobs', noops('rate', 1)[0])).status).toBe(429); // every route, not only the one it hammered

      const served = await b.get('/jobs');
      expect(served.status).toBe(200);
      expect(served.headers.get('x-ratelimit-remaining')).toBe(String(RATE - 1));
    });

    it("counts each key on its own although both submit as one owner, and a user's tokens together", async () => {
      const first = await portal(rated, 'shared-1', 'shared-owner');
      const second = await portal(rated, 'shared-2', 'shared-owner');
      for (let request = 0; request < RATE; request++) await first.get('/jobs');
      expect((await first.get('/jobs')).status).toBe(429);
      expect((await second.get('/jobs')).status).toBe(200);

      const admin = await adminOf(rated);
      await admin.post('/users', { username: 'rate-user', password: 'rate user password', role: 'portal' });
      const login = () => admin.as(undefined).post<{ access_token: string }>('/token', { username: 'rate-user', password: 'rate user password' });
      const [one, two] = await Promise.all([login(), login()]);
      const user = (token: string) => admin.as(`Bearer ${token}`);
      for (let request = 0; request < RATE; request++) await user(one.body.access_token).get('/jobs');
      expect((await user(two.body.access_token).get('/jobs')).status).toBe(429); // a fresh login gains nothing
    });

    it('does not count health probes', async () => {
      const anonymous = new Client(rated.url);
      for (let request = 0; request < RATE + 5; request++) expect((await anonymous.get('/health')).status).toBe(200);
    });
  });
});
