import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { LocalStorage } from '#shared';
import { waitFor } from '../../libs/testing/src/index.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { Client } from '../harness/http.js';
import { submitJob, type Job } from '../harness/jobs.js';
import { startService, storageDir, type RunningService } from '../harness/services.js';

/** Retention of 0.001 h: 3.6 s after its job finished, a result file is due. */
const RETENTION_HOURS = 0.001;

interface FileResult {
  file: string;
  downloadUrl?: string;
}

describe('result files: downloadUrl with a scoped TmpToken, expiry after the retention period, 410 (real gateway and PostgreSQL)', () => {
  let context: TestContext;
  let gateway: RunningService;
  let admin: Client;
  let storage: LocalStorage;
  let db: pg.Client;

  beforeAll(async () => {
    context = await createTestContext();
    gateway = await startService('gateway', context, {
      GEOJOBS_EXPORT_RETENTION_HOURS: String(RETENTION_HOURS),
      GEOJOBS_RETENTION_SWEEP_MS: '200',
      GEOJOBS_DOWNLOAD_TOKEN_HOURS: '1',
    });
    admin = await Client.admin(gateway);
    storage = new LocalStorage(storageDir(context));
    db = new pg.Client({ connectionString: context.databaseUrls.admin });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await gateway?.stop();
    await context?.dispose();
    if (context) await rm(storageDir(context), { recursive: true, force: true });
  });

  let submitted = 0;
  /**
   * A noop job nobody runs (no service here), then marked succeeded with a result file as a service's job.succeeded
   * would, finished `ageSeconds` ago. A finish in the future keeps it out of the sweep until the test moves it back.
   */
  async function jobWithFile(file: string, ageSeconds: number): Promise<string> {
    const { id } = await submitJob(admin, { type: 'noop', input: { service: 'geo', sleepMs: ++submitted } });
    await db.query(`UPDATE jobs.jobs SET state = 'succeeded', result = $2, finished_at = now() - make_interval(secs => $3) WHERE id = $1`, [
      id,
      { file, bytes: 5 },
      ageSeconds,
    ]);
    return id;
  }

  const read = async (id: string) => (await admin.get<Job<FileResult>>(`/jobs/${id}`)).body;
  const stored = async (key: string) => (await storage.stat(key)) !== undefined;

  it('gives a succeeded job with a file a downloadUrl that works without any header, for that one file only', async () => {
    await storage.write('exports/links/a.zip', Readable.from([Buffer.from('zip A')]));
    await storage.write('exports/links/b.zip', Readable.from([Buffer.from('zip B')]));
    const a = await jobWithFile('exports/links/a.zip', -3_600);
    const b = await jobWithFile('exports/links/b.zip', -3_600);

    const job = await read(a);
    const finished = Date.parse(job.finishedAt!);
    expect(Date.parse(job.expiresAt!)).toBe(finished + RETENTION_HOURS * 3_600_000);
    const url = new URL(job.result!.downloadUrl!);
    expect(url.pathname).toBe(`/jobs/${a}/result`);

    // a browser opening the link: no Authorization header
    const download = await fetch(url);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).toString()).toBe('zip A');
    expect(download.headers.get('content-disposition')).toBe('attachment; filename="a.zip"');

    // the same token on another job's file, on the job itself, or altered: refused
    const token = url.searchParams.get('token')!;
    expect((await fetch(`${gateway.url}/jobs/${b}/result?token=${token}`)).status).toBe(403);
    expect((await fetch(`${gateway.url}/jobs/${a}/result`, { headers: { authorization: `TmpToken ${token}` } })).status).toBe(200);
    expect((await fetch(`${gateway.url}/jobs/${a}`, { headers: { authorization: `TmpToken ${token}` } })).status).toBe(403);
    expect((await fetch(`${gateway.url}/jobs/${a}/result?token=${token.slice(0, -2)}xx`)).status).toBe(401);
    // ?token= is taken on the download only: not as a way around the header anywhere else
    expect((await fetch(`${gateway.url}/jobs/${a}?token=${token}`)).status).toBe(401);
  });

  it('expires a file past its retention: the job becomes expired, the file goes, GET /jobs/:id/result answers 410 saying when', async () => {
    await storage.write('exports/expiry/shared.zip', Readable.from([Buffer.from('reused')]));
    await storage.write('exports/expiry/own.zip', Readable.from([Buffer.from('own')]));
    // the recent job that reused the file first: the sweep runs every 200 ms, and must find it there when the old one is due
    const reusing = await jobWithFile('exports/expiry/shared.zip', -3_600); // an export reused from the cache, recent
    const older = await jobWithFile('exports/expiry/shared.zip', 60);
    const own = await jobWithFile('exports/expiry/own.zip', 60);

    const expired = await waitFor(
      async () => {
        const [first, second] = await Promise.all([read(older), read(own)]);
        return first.state === 'expired' && second.state === 'expired' && [first, second];
      },
      () => 'both old jobs to expire',
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    expect(expired[0].expiresAt).not.toBeNull();
    expect(expired[0].result?.downloadUrl).toBeUndefined();

    const gone = await admin.get<{ statusCode: number; message: string }>(`/jobs/${older}/result`);
    expect(gone.status).toBe(410);
    expect(gone.body.message).toMatch(new RegExp(`^the result file of job ${older} expired at \\d{4}-\\d\\d-\\d\\dT.+ and was removed`));

    // its own file is removed; the file a job still in retention names is kept, and still downloads
    expect(await stored('exports/expiry/own.zip')).toBe(false);
    expect(await stored('exports/expiry/shared.zip')).toBe(true);
    expect((await read(reusing)).state).toBe('succeeded');
    expect((await fetch((await read(reusing)).result!.downloadUrl!)).status).toBe(200);

    // once the last job naming it is past retention, the file goes too
    await db.query(`UPDATE jobs.jobs SET finished_at = now() - interval '1 minute' WHERE id = $1`, [reusing]);
    await waitFor(async () => (await read(reusing)).state === 'expired', 'the reusing job to expire', { timeoutMs: 20_000, intervalMs: 100 });
    expect(await stored('exports/expiry/shared.zip')).toBe(false);
  });
});
