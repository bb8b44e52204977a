/**
 * SMS-Rio's own case through its API: a Firebird database of a clinical system (WIN1252 text), as a gbak backup in a
 * GCS bucket, exported with `POST /export/` to a ZIP of CSVs beside it; then the options the original listed as to-do
 * (`tables`, `charset`), and a `tables` entry that does not exist. The gateway, export-service and the Firebird 3 server
 * run for real; the bucket is the local S3-compatible server reached as GCS's XML API.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { S3Storage } from '#shared';
import { backupFirebirdDatabase, createRowsDatabase, firebirdFixtureServer } from '../../libs/testing/src/firebird-fixtures.js';
import { waitFor } from '../../libs/testing/src/index.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { readHarness } from '../harness/global-setup.js';
import { Client } from '../harness/http.js';
import { S3TestServer } from '../harness/s3-server.js';
import { startService, storageDir, type RunningService } from '../harness/services.js';
import { unzip } from './smsrio-zip.js';

interface Check {
  status: 'PENDING' | 'PROGRESS' | 'SUCCESS' | 'FAILURE' | 'REVOKED';
  result: { status?: string; current?: number; total?: number; success?: boolean; output?: string; error?: string } | null;
  task_id: string;
}

/** Rows of the database, over three tables ROWS_1..ROWS_3 (the first takes the remainder). */
const ROWS = 30_001;
const PER_TABLE = Math.floor(ROWS / 3);

describe("SMS-Rio's Firebird export through its API: gbak backup in gs:// → ZIP of CSVs beside it, tables and charset (real services)", () => {
  let context: TestContext;
  let s3: S3TestServer;
  let bucket: S3Storage;
  let folder: string;
  const services: RunningService[] = [];
  let sms: Client;

  const exportUntilDone = async (body: unknown): Promise<Check> => {
    const submitted = await sms.post<{ success: boolean; id: string }>('/export/', body);
    expect(submitted).toMatchObject({ status: 200, body: { success: true } });
    return waitFor(
      async () => {
        const check = (await sms.get<Check>(`/check/${submitted.body.id}`)).body;
        return (check.status === 'SUCCESS' || check.status === 'FAILURE') && check;
      },
      () => `export ${submitted.body.id} to end`,
      { timeoutMs: 120_000, intervalMs: 100 },
    );
  };

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'smsrio-firebird-'));
    const server = firebirdFixtureServer(readHarness().env);
    await createRowsDatabase(server, join(folder, 'BACKUP.fdb'), ROWS, 3);
    await backupFirebirdDatabase(server, join(folder, 'BACKUP.fdb'), join(folder, 'BACKUP.fbk'));

    s3 = await S3TestServer.start();
    s3.createBucket('sms-rio');
    bucket = new S3Storage({ bucket: 'sms-rio', endpoint: s3.url, region: 'auto', accessKeyId: 'GOOG1E', secretAccessKey: 'secret', forcePathStyle: true });
    await bucket.write('cnes/BACKUP.fbk', Readable.from([await readFile(join(folder, 'BACKUP.fbk'))]));

    context = await createTestContext();
    services.push(await startService('gateway', context));
    services.push(
      await startService('export-service', context, {
        GEOJOBS_ALLOWED_HOSTS: '127.0.0.1',
        GEOJOBS_GCS_ENDPOINT: s3.url,
        GEOJOBS_GCS_HMAC_ACCESS_ID: 'GOOG1EXAMPLEHMACID',
        GEOJOBS_GCS_HMAC_SECRET: 'hmac-secret',
      }),
    );
    const admin = await Client.admin(services[0]);
    await admin.post('/users', { username: 'sms', password: 'a long password', role: 'portal' });
    const login = await admin.as(undefined).post<{ access_token: string }>('/token', { username: 'sms', password: 'a long password' });
    sms = admin.as(`Bearer ${login.body.access_token}`);
  });

  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await bucket?.close();
    await s3?.close();
    await context?.dispose();
    if (context) await rm(storageDir(context), { recursive: true, force: true });
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('exports every table to a ZIP beside the backup, text in UTF-8, rows as in the database', async () => {
    const done = await exportUntilDone({ gcs_uri: 'gs://sms-rio/cnes/BACKUP.fbk' });
    expect(done).toMatchObject({ status: 'SUCCESS', result: { success: true, output: 'gs://sms-rio/cnes/BACKUP.zip' } });

    const zip = await unzip(s3.object('sms-rio', 'cnes/BACKUP.zip')!);
    expect([...zip.keys()].sort()).toEqual(['README.txt', 'ROWS_1.csv', 'ROWS_2.csv', 'ROWS_3.csv']);
    const lines = (name: string) => zip.get(name)!.toString('utf8').trim().split(/\r?\n/);
    expect(lines('ROWS_1.csv')).toHaveLength(ROWS - 2 * PER_TABLE + 1);
    expect(lines('ROWS_2.csv')).toHaveLength(PER_TABLE + 1);
    expect(lines('ROWS_1.csv')[0]).toBe('ID,NOME,VALOR,CRIADO,ATIVO,NOTA');
    expect(lines('ROWS_1.csv')[6]).toContain('paciente 5 ação');
    expect(lines('ROWS_1.csv')[6]).toContain('observação número 5');
  });

  it('takes the tables and the charset the original had on its to-do list; the taken name gets a number, as SMS-Rio did', async () => {
    const done = await exportUntilDone({ gcs_uri: 'gs://sms-rio/cnes/BACKUP.fbk', tables: ['ROWS_2'], charset: 'latin1' });
    expect(done).toMatchObject({ status: 'SUCCESS', result: { success: true, output: 'gs://sms-rio/cnes/BACKUP-export1.zip' } });
    const zip = await unzip(s3.object('sms-rio', 'cnes/BACKUP-export1.zip')!);
    expect([...zip.keys()].sort()).toEqual(['README.txt', 'ROWS_2.csv']);
    const csv = zip.get('ROWS_2.csv')!;
    expect(csv.includes(Buffer.from('ação', 'latin1'))).toBe(true);
    expect(csv.includes(Buffer.from('ação', 'utf8'))).toBe(false);
    expect(iconv.decode(csv, 'latin1').trim().split(/\r?\n/)).toHaveLength(PER_TABLE + 1);
  });

  it('fails an export of a table that does not exist, naming the tables there are', async () => {
    const failed = await exportUntilDone({ gcs_uri: 'gs://sms-rio/cnes/BACKUP.fbk', tables: ['CNESHIST'] });
    expect(failed).toMatchObject({ status: 'FAILURE', result: { success: false } });
    expect(failed.result!.error).toMatch(/CNESHIST/);
    expect(failed.result!.error).toMatch(/ROWS_1.*ROWS_2.*ROWS_3/);
    expect(s3.keys('sms-rio')).toEqual(['cnes/BACKUP-export1.zip', 'cnes/BACKUP.fbk', 'cnes/BACKUP.zip']);
  });
});
