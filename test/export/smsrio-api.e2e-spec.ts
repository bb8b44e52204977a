/**
 * The SMS-Rio-compatible API's answers, with the gateway alone: no export-service runs here, so the exports stay
 * queued until the test moves them on in the jobs table as a service's lifecycle events would. The whole flow, with
 * export-service converting a gs:// input, is smsrio-flow.e2e-spec.ts.
 */
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { LocalStorage } from '#shared';
import { createTestContext, type TestContext } from '../harness/context.js';
import { Client } from '../harness/http.js';
import { startService, storageDir, type RunningService } from '../harness/services.js';

interface Check {
  status: string;
  result: Record<string, unknown> | null;
  task_id: string;
  date_done?: string;
}

describe('SMS-Rio API: POST /export/, GET /check/{id}, /list/, /clear/ (real gateway and PostgreSQL)', () => {
  let context: TestContext;
  let gateway: RunningService;
  let admin: Client;
  let sms: Client;
  let storage: LocalStorage;
  let db: pg.Client;

  /** What the job's lifecycle events would have written. */
  const setJob = (id: string, fields: { state: string; progress?: [number, number, string]; result?: unknown; error?: unknown }) =>
    db.query(
      `UPDATE jobs.jobs SET state = $2, progress_current = $3, progress_total = $4, progress_message = $5, result = $6, error = $7,
         started_at = coalesce(started_at, now()), finished_at = CASE WHEN $2 IN ('queued', 'running') THEN NULL ELSE now() END WHERE id = $1`,
      [id, fields.state, fields.progress?.[0] ?? 0, fields.progress?.[1] ?? 0, fields.progress?.[2] ?? '', fields.result ?? null, fields.error ?? null],
    );

  const submit = async (client: Client, body: unknown): Promise<string> => {
    const reply = await client.post<{ success: boolean; id: string }>('/export/', body);
    expect({ status: reply.status, body: reply.body }).toMatchObject({ status: 200, body: { success: true } });
    return reply.body.id;
  };

  beforeAll(async () => {
    context = await createTestContext();
    gateway = await startService('gateway', context);
    admin = await Client.admin(gateway);
    await admin.post('/users', { username: 'sms', password: 'a long password', role: 'portal' });
    // SMS-Rio's login: a form post to /token, as its README shows with curl -d
    const login = await fetch(`${gateway.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=sms&password=a+long+password',
    });
    const token = (await login.json()) as { status: string; access_token: string; token_type: string };
    expect(token).toMatchObject({ status: 'SUCCESS', token_type: 'Bearer' });
    sms = new Client(gateway.url, `Bearer ${token.access_token}`);
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

  it('takes {gcs_uri} as the original did, answers {success: true, id} and submits an export.convert job', async () => {
    const id = await submit(sms, { gcs_uri: 'gs://sms-rio/exports/BACKUP.GDB', tables: ['CNESHIST'], charset: 'latin1' });
    const job = await sms.get<{ type: string; input: unknown; owner: string }>(`/jobs/${id}`);
    expect(job.body).toMatchObject({
      type: 'export.convert',
      input: { uri: 'gs://sms-rio/exports/BACKUP.GDB', tables: ['CNESHIST'], charset: 'latin1' },
      owner: 'sms',
    });
    // without the trailing slash too, and `uri` as the field's geojobs name
    expect((await sms.post('/export', { uri: 's3://other/x.fbk' })).body).toMatchObject({ success: true });
  });

  it("refuses a body without a URI with FastAPI's 422, and what the job cannot take with the gateway's 400", async () => {
    const missing = await sms.post<{ detail: unknown[] }>('/export/', { tables: ['A'] });
    expect(missing.status).toBe(422);
    expect(missing.body).toEqual({ detail: [{ type: 'missing', loc: ['body', 'gcs_uri'], msg: 'Field required', input: { tables: ['A'] } }] });
    const wrongType = await sms.post<{ detail: { loc: unknown[] }[] }>('/export/', { gcs_uri: 12 });
    expect(wrongType.status).toBe(422);
    expect(wrongType.body.detail[0]).toMatchObject({ type: 'string_type', loc: ['body', 'gcs_uri'] });

    const scheme = await sms.post<{ message: string[] }>('/export/', { gcs_uri: 'ftp://host/BACKUP.GDB' });
    expect(scheme.status).toBe(400);
    expect(scheme.body.message.join()).toMatch(/uri must be an http\(s\), s3:\/\/ or gs:\/\/ URI/);
    const charset = await sms.post<{ message: string[] }>('/export/', { gcs_uri: 'gs://b/x.gdb', charset: 'klingon' });
    expect(charset.status).toBe(400);
    expect(charset.body.message.join()).toMatch(/charset/);
  });

  it('needs a login: 401 without a token', async () => {
    expect((await sms.as(undefined).post('/export/', { gcs_uri: 'gs://b/x.gdb' })).status).toBe(401);
    expect((await sms.as('Bearer not.a.token').get('/list/')).status).toBe(401);
  });

  it('/check/ follows the export: PENDING, PROGRESS with current/total, SUCCESS with the output, FAILURE, REVOKED', async () => {
    const id = await submit(sms, { gcs_uri: 'gs://sms-rio/check/BACKUP.GDB' });
    expect((await sms.get<Check>(`/check/${id}`)).body).toEqual({ status: 'PENDING', result: null, task_id: id });

    await setJob(id, { state: 'running', progress: [2, 6, 'Table CNESHIST: 40000 of 120000 rows'] });
    expect((await sms.get<Check>(`/check/${id}`)).body).toEqual({
      status: 'PROGRESS',
      result: { status: 'Table CNESHIST: 40000 of 120000 rows', current: 2, total: 6 },
      task_id: id,
    });

    await setJob(id, { state: 'succeeded', progress: [6, 6, 'done'], result: { output: 'gs://sms-rio/check/BACKUP.zip', tables: 6 } });
    const success = (await sms.get<Check>(`/check/${id}`)).body;
    expect(success).toMatchObject({ status: 'SUCCESS', result: { success: true, output: 'gs://sms-rio/check/BACKUP.zip' }, task_id: id });
    expect(Date.parse(success.date_done!)).not.toBeNaN();

    const failed = await submit(sms, { gcs_uri: 'gs://sms-rio/check/BROKEN.GDB' });
    await setJob(failed, { state: 'failed', error: { type: 'export', class: 'ConvertInputError', message: 'not a database' } });
    expect((await sms.get<Check>(`/check/${failed}`)).body).toMatchObject({
      status: 'FAILURE',
      result: { success: false, error: 'not a database', exc_message: ['not a database'] },
      task_id: failed,
    });

    const revoked = await submit(sms, { gcs_uri: 'gs://sms-rio/check/CANCEL.GDB' });
    expect((await sms.post(`/jobs/${revoked}/cancel`)).status).toBe(200);
    expect((await sms.get<Check>(`/check/${revoked}`)).body).toMatchObject({ status: 'REVOKED', result: { success: false }, task_id: revoked });
  });

  it("/check/ of another owner's export, or of no export, is 404", async () => {
    const mine = await submit(admin, { gcs_uri: 'gs://sms-rio/admin/BACKUP.GDB' });
    expect((await sms.get(`/check/${mine}`)).status).toBe(404);
    expect((await sms.get('/check/0f26ade5-ecc7-4f75-a034-545506c34a9b')).status).toBe(404);
    expect((await admin.get<Check>(`/check/${mine}`)).body).toMatchObject({ status: 'PENDING' });
  });

  it('/list/ shows working files by folder with sizes printed as the original did; /clear/ is refused while an export runs', async () => {
    const finished = await submit(sms, { uri: 'https://files.example.org/one.gdb' });
    const running = await submit(sms, { uri: 'https://files.example.org/two.gdb' });
    const others = await submit(admin, { uri: 'https://files.example.org/three.gdb' });
    await setJob(finished, { state: 'succeeded', result: { file: `convert/${finished}/one.zip` } });
    await setJob(running, { state: 'running', progress: [1, 3, 'Table A: 10 rows'] });
    await storage.write(`convert/${finished}/one.zip`, Readable.from([Buffer.alloc(4_168)]));
    await storage.write(`convert/${running}/csv/A.csv`, Readable.from([Buffer.alloc(1_025)]));
    await storage.write(`convert/${others}/three.zip`, Readable.from([Buffer.alloc(12)]));

    expect((await sms.get(`/list/`)).body).toEqual({
      [`convert/${finished}`]: [['one.zip', '4.07 KB']],
      [`convert/${running}/csv`]: [['A.csv', '1.00 KB']],
    });
    expect((await admin.get<Record<string, unknown>>('/list/')).body).toMatchObject({ [`convert/${others}`]: [['three.zip', '12.00 B']] });

    // admins only
    expect((await sms.get('/clear/')).status).toBe(403);
    const refused = await admin.get<{ detail: string; running: { id: string; uri: string }[] }>('/clear/');
    expect(refused.status).toBe(409);
    expect(refused.body.running).toEqual([{ id: running, uri: 'https://files.example.org/two.gdb' }]);
    expect(refused.body.detail).toContain(running);
    expect((await admin.get<Record<string, unknown>>('/list/')).body).toHaveProperty([`convert/${finished}`]);

    // once nothing runs, finished exports' files go; the folder of an export still queued (the admin's) stays
    await setJob(running, { state: 'cancelled' });
    const cleared = await admin.get<string[]>('/clear/');
    expect(cleared.status).toBe(200);
    expect(cleared.body).toEqual([others]);
    expect((await admin.get('/list/')).body).toEqual({ [`convert/${others}`]: [['three.zip', '12.00 B']] });
    // the export whose ZIP was cleared is expired, as retention would have left it; /check/ still says it succeeded
    expect((await sms.get<{ state: string }>(`/jobs/${finished}`)).body.state).toBe('expired');
    expect((await sms.get<Check>(`/check/${finished}`)).body).toMatchObject({ status: 'SUCCESS', result: { success: true } });
  });
});
