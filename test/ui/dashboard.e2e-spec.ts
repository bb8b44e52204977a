import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import amqp from 'amqplib';
import type { Browser, Page } from 'playwright-core';
import { EXCHANGES, HEADERS } from '../../libs/shared/src/index.js';
import { waitFor } from '../../libs/testing/src/index.js';
import { createTestContext, management, type TestContext } from '../harness/context.js';
import { ROOT } from '../harness/global-setup.js';
import { Client } from '../harness/http.js';
import { submitJob, waitForJob, type Job } from '../harness/jobs.js';
import { startService, TEST_ADMIN, type RunningService } from '../harness/services.js';
import { FileServer, hdxFixture } from '../geo/geo-files.js';
import { CHROMIUM, featurePixels, launchBrowser, logIn, openPage, SCREENS, screenshot, type Screen } from './browser.js';

const READER = { username: 'watcher', password: 'reads but never writes' };
const short = (id: string) => id.slice(0, 8);

describe('dashboard at /ui in headless Chromium (real gateway, geo-service, RabbitMQ, PostGIS)', () => {
  let context: TestContext;
  let gateway: RunningService;
  let geo: RunningService;
  let admin: Client;
  let browser: Browser;
  const files = new FileServer();
  const opened: { close(): Promise<void> }[] = [];
  let previewId: string;
  let layerId: string;
  let sagaId: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install.sh (it installs Debian's chromium)`);
    execFileSync('bash', ['scripts/build-ui.sh'], { cwd: ROOT, stdio: 'inherit' }); // quick when the build is current
    context = await createTestContext();
    await files.start();
    files.routes.set('/belgium.geojson', await hdxFixture('test.geojson'));
    geo = await startService('geo-service', context, { GEOJOBS_ALLOWED_HOSTS: '127.0.0.1' });
    gateway = await startService('gateway', context, { GEOJOBS_RABBITMQ_MGMT_URL: context.managementUrl, GEOJOBS_LOGIN_ATTEMPTS_PER_MINUTE: '1000' });
    admin = await Client.admin(gateway);
    expect((await admin.post('/users', { ...READER, role: 'reader' })).status).toBe(201);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    for (const page of opened) await page.close().catch(() => undefined);
    await browser?.close();
    await Promise.all([gateway, geo].map((service) => service?.stop()));
    await files.close();
    await context?.dispose();
  });

  /** A logged-in page at a screen size; its console errors are checked when the test closes it with `done`. */
  const session = async (screen: Screen = 'desktop', who = TEST_ADMIN, path = '/ui/') => {
    const opened_ = await openPage(browser, screen);
    opened.push(opened_.context);
    await logIn(opened_.page, gateway.url, who, path);
    return {
      page: opened_.page,
      done: async () => {
        expect(opened_.errors).toEqual([]);
        await opened_.context.close();
      },
    };
  };
  const rowOf = (page: Page, id: string) => page.locator(`tr[data-job-id="${id}"]`);

  it('logs in with the gateway’s own accounts, says so when the password is wrong, and logs out', async () => {
    const { page, errors, context: browserContext } = await openPage(browser, 'desktop');
    opened.push(browserContext);
    await page.goto(`${gateway.url}/ui/`);
    await page.getByLabel('Username').fill(TEST_ADMIN.username);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/wrong username or password/i);
    await screenshot(page, 'login', 'desktop');
    await page.getByLabel('Password').fill(TEST_ADMIN.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    await expect(page.locator('.who').textContent()).resolves.toBe(`${TEST_ADMIN.username} (admin)`);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Username').waitFor();
    // 401 from the failed login is the one console line Chromium writes for it; nothing else
    expect(errors.filter((error) => !/401/.test(error))).toEqual([]);
    await browserContext.close();
  });

  it('serves the bundles as immutable and the index as no-cache, with the app’s pages under /ui', async () => {
    const index = await fetch(`${gateway.url}/ui/jobs/anything`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    const bundle = /src="\/ui\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(bundle).toBeDefined();
    const asset = await fetch(`${gateway.url}/ui/${bundle}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${gateway.url}/ui`, { redirect: 'manual' })).headers.get('location')).toBe('/ui/');
  });

  it('shows a geopreview submitted through the API, live, until its progress bar says done', async () => {
    const { page, done } = await session();
    const reply = await admin.post<Job>('/geopreview', { datasetId: 'belgium', resourceId: 'belgium-borders', url: files.url('/belgium.geojson') });
    expect(reply.status).toBe(202);
    previewId = reply.body.id;
    const bar = rowOf(page, previewId).getByRole('progressbar');
    await bar.waitFor(); // appeared without reloading: the list's event stream
    await page.locator(`tr[data-job-id="${previewId}"] [role=progressbar][data-state=succeeded]`).waitFor({ timeout: 60_000 });
    await expect(bar.getAttribute('aria-valuenow')).resolves.toBe('100');
    await expect(bar.textContent()).resolves.toBe('done');
    const job = await waitForJob<{ layerId: string }>(admin, previewId, 'succeeded');
    layerId = job.result!.layerId;
    await done();
  });

  it('finds jobs by any text of their input and by id', async () => {
    const { page, done } = await session();
    await page.getByLabel('Search').fill('belgium-borders');
    await page.getByRole('button', { name: 'Apply' }).click();
    await rowOf(page, previewId).waitFor();
    await expect(page.locator('tr[data-job-id]').count()).resolves.toBe(1);
    await page.getByLabel('Search').fill(previewId);
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('1–1 of 1 jobs').waitFor();
    await done();
  });

  it('opens the layer page from the job and draws the layer’s features from its vector tiles', async () => {
    const { page, done } = await session('desktop', TEST_ADMIN, `/ui/jobs/${previewId}`);
    await page.getByRole('heading', { name: /geo\.preview/ }).waitFor();
    await page.getByRole('link', { name: `Layer ${layerId} on a map` }).click();
    await page.locator('.map[data-drawn=true]').waitFor({ timeout: 30_000 });
    await expect(page.getByText('Polygon', { exact: false }).first().isVisible()).resolves.toBe(true);
    await screenshot(page, 'layer-map', 'desktop');
    const pixels = await featurePixels(page);
    // Belgium, fitted to the map: a good part of the canvas is the feature's blue, much of the rest the background
    expect(pixels.feature).toBeGreaterThan(pixels.width * pixels.height * 0.05);
    expect(pixels.background).toBeGreaterThan(pixels.width * pixels.height * 0.05);
    await done();
  });

  it('shows a saga’s tree with its failed children, counts by state, and nested sagas that expand', async () => {
    const saga = await submitJob(admin, { type: 'noop', input: { service: 'geo', children: 2, child: { service: 'geo', children: 2, failChildren: 1 } } });
    sagaId = saga.id;
    await waitForJob(admin, sagaId);
    const { page, done } = await session('desktop', TEST_ADMIN, `/ui/jobs/${sagaId}`);
    await page.getByRole('tree', { name: 'Subtasks' }).waitFor();
    const counts = page.getByRole('list', { name: 'Subtasks by state' });
    await expect(counts.locator('[data-state=failed]').textContent()).resolves.toMatch(/failed\s*4/); // two nested sagas and one child of each
    await expect(counts.locator('[data-state=succeeded]').textContent()).resolves.toMatch(/succeeded\s*2/);
    // the nested sagas are open (they hold a failure): both, and the failed child of each
    const failedItems = page.locator('[role=treeitem][data-state=failed]');
    await expect(failedItems.count()).resolves.toBe(4);
    await expect(page.locator('[role=treeitem][data-state=failed] .tree-error').first().textContent()).resolves.toMatch(/subtask 1 failed|failed/);
    await page
      .getByRole('button', { name: /^Collapse noop/ })
      .first()
      .click();
    await expect(failedItems.count()).resolves.toBe(3);
    await page
      .getByRole('button', { name: /^Expand noop/ })
      .first()
      .press('Enter'); // by keyboard too
    await expect(failedItems.count()).resolves.toBe(4);
    await done();
  });

  it('cancels a running job from the list', async () => {
    const job = await submitJob(admin, { type: 'noop', input: { service: 'geo', sleepMs: 60_000 } });
    await waitForJob(admin, job.id, 'running');
    const { page, done } = await session();
    await page.getByRole('button', { name: `Cancel job ${short(job.id)}` }).click();
    await page.locator(`tr[data-job-id="${job.id}"] .state-cancelled`).waitFor();
    await expect(admin.get<Job>(`/jobs/${job.id}`).then((reply) => reply.body.state)).resolves.toBe('cancelled');
    await done();
  });

  it('retries a failed job as a new job linked to the old one', async () => {
    const failed = await submitJob(admin, { type: 'noop', input: { service: 'geo', fail: 'the disk is full' } });
    await waitForJob(admin, failed.id, 'failed');
    const { page, done } = await session('desktop', TEST_ADMIN, `/ui/jobs/${failed.id}`);
    await page.getByText('the disk is full').first().waitFor();
    await page.getByRole('button', { name: 'Retry job' }).click();
    await page.waitForURL((url) => /\/ui\/jobs\//.test(url.pathname) && !url.pathname.endsWith(failed.id));
    const retryId = new URL(page.url()).pathname.split('/').pop()!;
    await page.getByText('Retry of').waitFor();
    const retried = await admin.get<Job>(`/jobs/${retryId}`);
    expect(retried.body).toMatchObject({ type: 'noop', input: { service: 'geo', fail: 'the disk is full' }, history: { retryOf: failed.id } });
    expect((await admin.get<Job>(`/jobs/${failed.id}`)).body.history!.retries).toEqual([retryId]);
    await waitForJob(admin, retryId);
    await done();
  });

  it('retries every failed job of a filter after showing how many', async () => {
    const failing = await Promise.all([1, 2, 3].map((n) => submitJob(admin, { type: 'noop', input: { service: 'geo', fail: `bulk ${n}` } })));
    await Promise.all(failing.map((job) => waitForJob(admin, job.id, 'failed')));
    const { count } = (await admin.get<{ count: number }>('/jobs/count?state=failed&type=noop')).body;
    const { page, done } = await session('desktop', TEST_ADMIN, '/ui/?state=failed&type=noop');
    await page.getByRole('button', { name: 'Retry all matching…' }).click();
    await page.getByText(`Retry ${count} failed noop jobs?`).waitFor();
    await page.getByRole('button', { name: `Retry ${count} jobs` }).click();
    await page.getByText(`Retried ${count} of ${count} matching jobs.`).waitFor();
    for (const job of failing) expect((await admin.get<Job>(`/jobs/${job.id}`)).body.history!.retries).toHaveLength(1);
    await done();
  });

  it('cancels every queued or running job of a search after showing how many', async () => {
    const sleepy = await Promise.all(
      [1, 2].map((n) => submitJob(admin, { type: 'noop', input: { service: 'geo', sleepMs: 59_871 }, idempotencyKey: `bulk-cancel-${n}` })),
    );
    const { page, done } = await session('desktop', TEST_ADMIN, '/ui/?q=59871');
    await page.getByText('1–2 of 2 jobs').waitFor();
    await page.getByRole('button', { name: 'Cancel all matching…' }).click();
    await page.getByText('Cancel 2 queued or running jobs?').waitFor();
    await page.getByRole('button', { name: 'Cancel 2 jobs' }).click();
    await page.getByText('Cancelled 2 of 2 matching jobs.').waitFor();
    for (const job of sleepy) expect((await admin.get<Job>(`/jobs/${job.id}`)).body.state).toBe('cancelled');
    await done();
  });

  it('shows a reader everything and no button that changes anything; the API refuses them too', async () => {
    const { page, done } = await session('desktop', READER);
    await rowOf(page, previewId).waitFor();
    await expect(page.getByRole('button', { name: /^(Cancel|Retry)/ }).count()).resolves.toBe(0);
    await page.goto(`${gateway.url}/ui/jobs/${sagaId}`); // a reload: the token is in memory only, so log in again
    await logIn(page, gateway.url, READER, `/ui/jobs/${sagaId}`);
    await page.getByRole('tree', { name: 'Subtasks' }).waitFor();
    await expect(page.getByRole('button', { name: /Cancel job|Retry job/ }).count()).resolves.toBe(0);
    await page.getByRole('link', { name: 'Queues' }).click();
    await page.getByRole('heading', { name: 'Queues' }).waitFor();
    await expect(page.getByRole('button', { name: /Replay|Discard/ }).count()).resolves.toBe(0);
    const token = (await new Client(gateway.url).post<{ access_token: string }>('/token', READER)).body.access_token;
    const reader = new Client(gateway.url, `Bearer ${token}`);
    expect((await reader.post(`/jobs/${sagaId}/retry`)).status).toBe(403);
    expect((await reader.post('/jobs/bulk/cancel', { dryRun: true })).status).toBe(403);
    expect((await reader.post('/queues/geo_q/dead-letters/replay', {})).status).toBe(403);
    expect((await reader.get<Job[]>('/jobs?limit=500')).body.some((job) => job.id === previewId)).toBe(true); // sees the admin's jobs
    await done();
  });

  it('saves a screenshot of every page at 1280×800 and 390 px wide, with no console error and nothing wider than the screen', async () => {
    for (const screen of Object.keys(SCREENS) as Screen[]) {
      const { page, done } = await session(screen);
      const pages: [string, string, string][] = [
        ['jobs', '/', `tr[data-job-id="${previewId}"]`],
        ['job-saga', `/jobs/${sagaId}`, '[role=tree]'],
        ['layer', `/layers/${layerId}`, '.map[data-drawn=true]'],
        ['queues', '/queues', 'table.queues tbody tr'],
      ];
      for (const [name, path, ready] of pages) {
        await page.evaluate(`history.pushState(null, '', ${JSON.stringify(`/ui${path}`)}); dispatchEvent(new PopStateEvent('popstate'))`);
        await page.locator(ready).first().waitFor({ timeout: 30_000 });
        await screenshot(page, name, screen);
        const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        expect({ page: name, screen, overflow }).toEqual({ page: name, screen, overflow: 0 });
      }
      await done();
    }
  });

  it('lists a dead letter with its reason and replays it to its original queue', async () => {
    const connection = await amqp.connect(context.amqpUrl);
    const channel = await connection.createConfirmChannel();
    channel.publish(EXCHANGES.commands, 'geo.noop', Buffer.from('{"this is": "not an envelope"'), { messageId: 'malformed-1', persistent: true });
    await channel.waitForConfirms();
    const depth = async (queue: string) =>
      ((await (await management(context.managementUrl, 'GET', `/api/queues/${context.vhost}/${queue}`)).json()) as { messages?: number }).messages ?? 0;
    await waitFor(async () => (await depth('geo_q.dlq')) === 1, 'the malformed message to be dead-lettered', { timeoutMs: 30_000 });
    // with geo-service stopped, the replayed message waits in geo_q, where it can be seen
    await geo.stop();

    // the management API's credentials stay in the gateway: the page gets depths, rates and a bare link
    const password = decodeURIComponent(new URL(context.managementUrl).password);
    const listed = await admin.get<{ managementUi: string; queues: { name: string }[] }>('/queues');
    expect(listed.body.queues.map((queue) => queue.name)).toEqual(expect.arrayContaining(['geo_q', 'geo_q.dlq', 'saga_q.dlq']));
    expect(JSON.stringify(listed.body)).not.toContain(password);
    expect(new URL(listed.body.managementUi).username).toBe('');

    const { page, done } = await session('desktop', TEST_ADMIN, '/ui/queues');
    const letter = page.locator('.letter[data-message-id="malformed-1"]');
    await letter.waitFor({ timeout: 15_000 });
    await expect(letter.textContent()).resolves.toMatch(/malformed/);
    await screenshot(page, 'queues-dead-letter', 'desktop');
    await letter.getByRole('button', { name: 'Replay' }).click();
    await letter.waitFor({ state: 'detached' });
    await waitFor(async () => (await depth('geo_q.dlq')) === 0 && (await depth('geo_q')) >= 1, 'the dead letter to be back in geo_q', { timeoutMs: 15_000 });
    // read with a manual ack: a message that is not the one looked for stays in the queue (the channel's close requeues it)
    const replayed = await waitFor(() => channel.get('geo_q', { noAck: false }), 'the replayed message in geo_q');
    expect(replayed.properties.messageId).toBe('malformed-1');
    expect(replayed.properties.headers?.[HEADERS.reason]).toBeUndefined();
    expect(replayed.properties.headers?.[HEADERS.originalRoutingKey]).toBe('geo.noop');
    channel.ack(replayed);

    // one more dead letter, discarded for good after a second question
    channel.publish(EXCHANGES.deadLetter, 'geo_q.dlq', Buffer.from('{}'), { messageId: 'stray-1', headers: { [HEADERS.reason]: 'rejected' } });
    await channel.waitForConfirms();
    await logIn(page, gateway.url, TEST_ADMIN, '/ui/queues');
    await page.locator('.letter[data-message-id="stray-1"]').waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Discard all…' }).click();
    await page.getByText('Discard all 1 dead letters of geo_q?').waitFor();
    await page.getByRole('button', { name: 'Discard 1' }).click();
    await page.locator('.letter[data-message-id="stray-1"]').waitFor({ state: 'detached' });
    await waitFor(async () => (await depth('geo_q.dlq')) === 0, 'the dead letter to be discarded', { timeoutMs: 15_000 });
    await connection.close();
    await done();
  });
});
