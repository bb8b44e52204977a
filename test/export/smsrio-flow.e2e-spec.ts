/**
 * SMS-Rio's whole flow on geojobs, as its clients run it: log in, `POST /export/` with a `gs://` URI, poll
 * `/check/{id}` through PROGRESS (current/total by table) to SUCCESS with the ZIP beside the input, `/list/` and
 * `/clear/` (refused while an export runs), and an export cancelled in the middle of a table. The gateway and
 * export-service run as real processes; the bucket is the local S3-compatible server, reached as GCS's XML API with
 * an HMAC key (GEOJOBS_GCS_ENDPOINT).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Readable } from 'node:stream';
import { S3Storage } from '#shared';
import { waitFor } from '../../libs/testing/src/index.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { Client } from '../harness/http.js';
import { S3TestServer } from '../harness/s3-server.js';
import { startService, storageDir, type RunningService } from '../harness/services.js';
import { unzip } from './smsrio-zip.js';

interface Check {
  status: 'PENDING' | 'PROGRESS' | 'SUCCESS' | 'FAILURE' | 'REVOKED';
  result: { status?: string; current?: number; total?: number; success?: boolean; output?: string; error?: string } | null;
  task_id: string;
}

/**
 * Rows of the big table: enough that converting it takes seconds even on a fast machine (progress is published about
 * once a second while rows stream), so /check/ and a cancel catch it mid-table; a loaded 2-core machine takes a minute.
 */
const BIG_ROWS = Number(process.env.SMSRIO_BIG_ROWS ?? 800_000);
/** A whole export of the big table on a loaded machine, and the wait for any state. */
const EXPORT_TIMEOUT_MS = 300_000;

/** A clinical-system-like SQLite database: two small tables (accents, NULLs, dates) and one big one. */
function makeDatabase(path: string): void {
  const db = new DatabaseSync(path);
  db.exec(`
    CREATE TABLE "CNESHIST" (id INTEGER PRIMARY KEY, unidade TEXT, aberta_em TEXT, leitos INTEGER);
    INSERT INTO "CNESHIST" VALUES (1, 'Clínica da Família São João', '2019-03-01', 12), (2, 'Policlínica "Centro"', NULL, NULL), (3, 'UPA, Niterói', '2021-12-31', 40);
    CREATE TABLE "PACIENTES" (id INTEGER PRIMARY KEY, nome TEXT, nascimento TEXT, peso REAL);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${BIG_ROWS})
      INSERT INTO "PACIENTES" SELECT i, 'Paciente ' || i || ' da Conceição', date('1950-01-01', '+' || (i % 20000) || ' days'), (i % 1000) * 0.25 FROM n;
    CREATE TABLE "UNIDADES" (codigo TEXT PRIMARY KEY, nome TEXT);
    INSERT INTO "UNIDADES" VALUES ('2270', 'Hospital Municipal Souza Aguiar');
  `);
  db.close();
}

describe('SMS-Rio flow: gs:// input → /check/ PROGRESS → SUCCESS beside the input; /list/, /clear/, cancel (real services)', () => {
  let context: TestContext;
  let s3: S3TestServer;
  let bucket: S3Storage;
  let files: Server;
  let filesUrl: string;
  let folder: string;
  let scratch: string;
  let database: Buffer;
  const services: RunningService[] = [];
  let sms: Client;
  let admin: Client;

  /** /check/ until `done` says so; every answer seen on the way is kept, to show the states it went through. */
  async function checkUntil(id: string, done: (check: Check) => boolean, seen: Check[] = [], what = 'the export'): Promise<Check> {
    return waitFor(
      async () => {
        const reply = await sms.get<Check>(`/check/${id}`);
        expect(reply.status).toBe(200);
        seen.push(reply.body);
        if (reply.body.status === 'FAILURE') throw new Error(`export ${id} failed: ${JSON.stringify(reply.body.result)}`);
        return done(reply.body) && reply.body;
      },
      () => `${what} (last: ${JSON.stringify(seen.at(-1))})`,
      { timeoutMs: EXPORT_TIMEOUT_MS - 30_000, intervalMs: 50 },
    );
  }

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'smsrio-flow-'));
    scratch = join(folder, 'scratch');
    await mkdir(scratch);
    makeDatabase(join(folder, 'BACKUP.sqlite'));
    database = await readFile(join(folder, 'BACKUP.sqlite'));

    s3 = await S3TestServer.start();
    s3.createBucket('sms-rio');
    bucket = new S3Storage({ bucket: 'sms-rio', endpoint: s3.url, region: 'auto', accessKeyId: 'GOOG1E', secretAccessKey: 'secret', forcePathStyle: true });
    await bucket.write('path/to/BACKUP.sqlite', Readable.from([database]));
    // the same file over http(s): its ZIP has nowhere beside it, so it goes to geojobs' storage, a working file
    files = createServer((_request, response) => response.writeHead(200, { 'content-length': String(database.length) }).end(database));
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;

    context = await createTestContext();
    services.push(await startService('gateway', context));
    services.push(
      await startService('export-service', context, {
        GEOJOBS_ALLOWED_HOSTS: '127.0.0.1',
        GEOJOBS_GCS_ENDPOINT: s3.url,
        GEOJOBS_GCS_HMAC_ACCESS_ID: 'GOOG1EXAMPLEHMACID',
        GEOJOBS_GCS_HMAC_SECRET: 'hmac-secret',
        GEOJOBS_EXPORT_SCRATCH_DIR: scratch,
      }),
    );
    admin = await Client.admin(services[0]);
    await admin.post('/users', { username: 'sms', password: 'a long password', role: 'portal' });
    const login = await admin.as(undefined).post<{ access_token: string }>('/token', { username: 'sms', password: 'a long password' });
    sms = admin.as(`Bearer ${login.body.access_token}`);
  });

  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await bucket?.close();
    await s3?.close();
    files?.closeAllConnections();
    await new Promise<void>((resolve) => (files ? files.close(() => resolve()) : resolve()));
    await context?.dispose();
    if (context) await rm(storageDir(context), { recursive: true, force: true });
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it(
    'converts a gs:// input: PENDING/PROGRESS with current/total by table, then SUCCESS with the ZIP beside the input; /clear/ refused meanwhile',
    async () => {
      const submitted = await sms.post<{ success: boolean; id: string }>('/export/', { gcs_uri: 'gs://sms-rio/path/to/BACKUP.sqlite' });
      expect(submitted.status).toBe(200);
      expect(submitted.body).toEqual({ success: true, id: expect.any(String) });
      const { id } = submitted.body;

      const seen: Check[] = [];
      // mid-table: the big table's rows counted in the message
      const progress = await checkUntil(
        id,
        (check) => check.status === 'PROGRESS' && /PACIENTES.*[1-9]/.test(check.result?.status ?? ''),
        seen,
        'rows of PACIENTES',
      );
      expect(progress).toMatchObject({ status: 'PROGRESS', task_id: id, result: { current: expect.any(Number), total: 3 } });
      expect(progress.result!.current).toBeLessThan(3);

      const refused = await admin.get<{ detail: string; running: { id: string; uri: string }[] }>('/clear/');
      expect(refused.status).toBe(409);
      expect(refused.body.running).toEqual([{ id, uri: 'gs://sms-rio/path/to/BACKUP.sqlite' }]);

      const success = await checkUntil(id, (check) => check.status === 'SUCCESS', seen);
      expect(success).toMatchObject({ status: 'SUCCESS', task_id: id, result: { success: true, output: 'gs://sms-rio/path/to/BACKUP.zip' } });
      expect(seen.map((check) => check.status).filter((status, index, all) => all.indexOf(status) === index)).toEqual(
        expect.arrayContaining(['PROGRESS', 'SUCCESS']),
      );
      // current/total by table: every count seen is a table's place among the 3
      const counts = seen.filter((check) => check.status === 'PROGRESS').map((check) => [check.result!.current, check.result!.total]);
      expect(counts.some(([, total]) => total === 3)).toBe(true);

      const zip = await unzip(s3.object('sms-rio', 'path/to/BACKUP.zip')!);
      expect([...zip.keys()].sort()).toEqual(['CNESHIST.csv', 'PACIENTES.csv', 'README.txt', 'UNIDADES.csv']);
      const cneshist = zip.get('CNESHIST.csv')!.toString('utf8');
      expect(cneshist).toContain('Clínica da Família São João');
      expect(cneshist).toContain('"Policlínica ""Centro"""');
      expect(cneshist.trim().split(/\r?\n/)).toHaveLength(4);
      const pacientes = zip.get('PACIENTES.csv')!.toString('utf8').trim().split(/\r?\n/);
      expect(pacientes).toHaveLength(BIG_ROWS + 1);
      expect(pacientes[1]).toContain('Paciente 1 da Conceição');
    },
    EXPORT_TIMEOUT_MS,
  );

  it(
    '/list/ shows the working files of an export whose ZIP stays in geojobs, and /clear/ removes them once nothing runs',
    async () => {
      const { body } = await sms.post<{ id: string }>('/export/', { uri: `${filesUrl}/BACKUP.sqlite`, tables: ['UNIDADES'] });
      const done = await checkUntil(body.id, (check) => check.status === 'SUCCESS');
      expect(done.result!.output).toBe(`storage://convert/${body.id}/BACKUP.zip`);

      const listing = await sms.get<Record<string, [string, string][]>>('/list/');
      expect(listing.body).toEqual({ [`convert/${body.id}`]: [['BACKUP.zip', expect.stringMatching(/^\d+\.\d\d (K)?B$/)]] });

      const cleared = await admin.get<string[]>('/clear/');
      expect(cleared).toMatchObject({ status: 200, body: [] });
      expect((await sms.get('/list/')).body).toEqual({});
    },
    EXPORT_TIMEOUT_MS,
  );

  it(
    'cancels an export in the middle of a table: REVOKED, no ZIP in the bucket, no unfinished upload, no scratch left',
    async () => {
      const { body } = await sms.post<{ id: string }>('/export/', { gcs_uri: 'gs://sms-rio/path/to/BACKUP.sqlite' });
      await checkUntil(body.id, (check) => check.status === 'PROGRESS' && /PACIENTES.*[1-9]/.test(check.result?.status ?? ''), [], 'rows of PACIENTES');

      const cancelled = await sms.post<{ state: string }>(`/jobs/${body.id}/cancel`);
      expect(cancelled.status).toBe(200);
      const revoked = await checkUntil(body.id, (check) => check.status === 'REVOKED');
      expect(revoked).toMatchObject({ status: 'REVOKED', task_id: body.id, result: { success: false } });

      // the output it would have had (BACKUP.zip is taken by the first export) never appears, and no upload is left open
      await waitFor(
        async () => s3.openUploads('sms-rio') === 0 && (await readdir(scratch)).length === 0,
        () => 'the cancelled export to clean up',
        {
          timeoutMs: 15_000,
          intervalMs: 100,
        },
      );
      expect(s3.keys('sms-rio')).toEqual(['path/to/BACKUP.sqlite', 'path/to/BACKUP.zip']);
      expect(existsSync(join(storageDir(context), 'convert', body.id))).toBe(false);
    },
    EXPORT_TIMEOUT_MS,
  );
});
