import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSampleDatabase, firebirdFixtureServer } from '../../libs/testing/src/firebird-fixtures.js';
import { FileServer } from '../geo/geo-files.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { readHarness } from '../harness/global-setup.js';
import { Client } from '../harness/http.js';
import { waitForJob, type Job } from '../harness/jobs.js';
import { startService, storageDir, type RunningService } from '../harness/services.js';
import { parseCsv, readZip } from './convert-fixtures.js';

interface ConvertResult {
  file: string;
  output: string;
  engine: string;
  charset: string;
  tables: { name: string; file: string; rows: number; columns: number }[];
}

describe('export.convert of a Firebird database and its gbak backup through the job (real Firebird 3, services, RabbitMQ)', () => {
  let context: TestContext;
  let gateway: RunningService;
  let exporter: RunningService;
  let admin: Client;
  let dir: string;
  let scratch: string;
  const files = new FileServer();

  beforeAll(async () => {
    context = await createTestContext();
    await files.start();
    dir = await mkdtemp(join(tmpdir(), 'geojobs-convert-firebird-'));
    const sample = await createSampleDatabase(firebirdFixtureServer(readHarness().env), dir);
    files.routes.set('/sms/BACKUP.FBK', await readFile(sample.fbk));
    files.routes.set('/sms/CLINICA.FDB', await readFile(sample.fdb));
    scratch = await mkdtemp(join(tmpdir(), 'geojobs-convert-scratch-'));
    exporter = await startService('export-service', context, { GEOJOBS_ALLOWED_HOSTS: '127.0.0.1', GEOJOBS_EXPORT_SCRATCH_DIR: scratch });
    gateway = await startService('gateway', context);
    admin = await Client.admin(gateway);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([gateway, exporter].map((service) => service?.stop()));
    await files.close();
    await context?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const convert = async (input: Record<string, unknown>): Promise<{ job: Job<ConvertResult>; zip: Map<string, Buffer> }> => {
    const reply = await admin.post<Job>('/exports', { kind: 'convert', ...input });
    expect({ status: reply.status, body: reply.body }).toMatchObject({ status: 202 });
    const job = await waitForJob<ConvertResult>(admin, reply.body.id, 'succeeded', { timeoutMs: 90_000 });
    const zip = await readZip(join(storageDir(context), job.result!.file));
    expect(await readdir(scratch)).toEqual([]);
    return { job, zip };
  };

  it('restores a .fbk and writes every table, rows equal to the source, WIN1252 text read right', async () => {
    const { job, zip } = await convert({ uri: files.url('/sms/BACKUP.FBK') });
    expect(job.result!.file).toBe(`convert/${job.id}/BACKUP.zip`);
    expect(job.result!.engine).toMatch(/^Firebird 3 \(restored from a gbak backup/);
    expect(job.result!.tables).toEqual([
      { name: 'Exames Clínicos "2024"', file: 'Exames_Clinicos_2024.csv', rows: 3, columns: 10 },
      { name: 'PACIENTES', file: 'PACIENTES.csv', rows: 4, columns: 7 },
      { name: 'VAZIA', file: 'VAZIA.csv', rows: 0, columns: 2 },
    ]);
    const pacientes = parseCsv(zip.get('PACIENTES.csv')!.toString('utf8'));
    expect(pacientes[0]).toEqual(['ID', 'NOME', 'NASCIMENTO', 'PESO', 'ATIVO', 'CADASTRO', 'OBSERVACOES']);
    expect(pacientes[1]).toEqual([
      '1',
      'João da Conceição',
      '1980-02-29',
      '72.50',
      'true',
      '2024-01-15T08:30:00.125Z',
      'Hipertensão; retorno em 30 dias.\nAlergia: penicilina.',
    ]);
    expect(pacientes[3]).toEqual(['3', "O'Brien, Zoë", '', '', '', '', '']);
    const exames = parseCsv(zip.get('Exames_Clinicos_2024.csv')!.toString('utf8'));
    expect(exames[1].slice(0, 3)).toEqual([
      '9007199254740993',
      'Glicemia: 99 mg/dL',
      Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0x0a, 0x0d]).toString('base64'),
    ]);
    expect(parseCsv(zip.get('VAZIA.csv')!.toString('utf8'))).toEqual([['ID', 'DESCRICAO']]);
    expect(zip.get('README.txt')!.toString('utf8')).toContain('Source charset: WIN1252');
  });

  it('reads an ODS 12 .fdb directly: a table subset, in Latin-1', async () => {
    const { job, zip } = await convert({ uri: files.url('/sms/CLINICA.FDB'), tables: ['PACIENTES'], charset: 'latin1' });
    expect(job.result!.engine).toMatch(/^Firebird 3 \(ODS 12/);
    expect([...zip.keys()].sort()).toEqual(['PACIENTES.csv', 'README.txt']);
    const bytes = zip.get('PACIENTES.csv')!;
    expect(bytes.includes(Buffer.from('João da Conceição', 'latin1'))).toBe(true);
    expect(bytes.includes(Buffer.from('João', 'utf8'))).toBe(false);
    expect(parseCsv(bytes.toString('latin1'))[2][1]).toBe('Márcia Ñúñez "Tiça"');
  });
});
