/**
 * `npm run bench:convert`: a generated GeoPackage of 1,000,000 rows in 6 tables (an integer, a text, a real, a date,
 * a timestamp and a point each) converted to a ZIP of CSVs by geojobs — the whole `export.convert` job on a spawned
 * export-service (HTTP download, open, CSVs streamed through archiver into storage), timed from publishing the command
 * to `job.succeeded` — and by `ogr2ogr -f CSV` per table plus `zip`, in interleaved rounds. Then Firebird databases of
 * 100,000 and 1,000,000 rows (made in the bench's Firebird server by libs/testing's fixture builder, kept for the next
 * run) converted by the same service: rows/s and the larger's time over the smaller's (a cursor is linear, ≈10×;
 * paging with FIRST/SKIP would be quadratic). Prints the medians, the ratios, and export-service's peak RSS (VmHWM
 * from /proc/<pid>/status) over the whole run. BENCH_ROWS, BENCH_TABLES, BENCH_ROUNDS, BENCH_FIREBIRD_ROWS
 * (`100000,1000000`) and BENCH_FIREBIRD_ROUNDS change the sizes and rounds.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRowsDatabase, firebirdFixtureServer } from '../libs/testing/src/firebird-fixtures.js';
import { serveFile } from '../libs/testing/src/index.js';
import { benchEnv, benchNodeArgs, freshDatabase, freshVhost, startBenchService, withDatabase } from './support/bench-env.js';
import { cpuSeconds, jobRunner, peakRssMb } from './support/job-runner.js';
import { median } from './support/stats.js';

const run = promisify(execFile);

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const TABLES = Number(process.env.BENCH_TABLES ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const FIREBIRD_ROWS = (process.env.BENCH_FIREBIRD_ROWS ?? '100000,1000000').split(',').map(Number);
const FIREBIRD_ROUNDS = Number(process.env.BENCH_FIREBIRD_ROUNDS ?? 3);
const env = process.env;
if (
  !env.GEOJOBS_AMQP_URL ||
  !env.GEOJOBS_RABBITMQ_MGMT_URL ||
  !env.GEOJOBS_ADMIN_DATABASE_URL ||
  !env.GEOJOBS_EXPORT_DATABASE_URL ||
  !env.GEOJOBS_FIREBIRD_PASSWORD
) {
  throw new Error('run through npm run bench:convert (needs the infra variables)');
}
/** What the bench reads of an `export.convert` job's result. */
interface ConvertResult {
  file: string;
  bytes: number;
  tables: { name: string; rows: number }[];
}

const DATA = join(env.GEOJOBS_DATA_DIR ?? join(process.cwd(), '.data', 'bench'), 'convert');

/**
 * A GeoPackage of `rows` rows over `tables` tables, made once per size: each table's schema from a one-line CSV and
 * its type sidecar, then its rows appended by ogr2ogr from an SQL series (GDAL's SQLite dialect), in a few seconds.
 */
async function geoPackage(rows: number, tables: number): Promise<string> {
  const path = join(DATA, `convert-${rows}-${tables}.gpkg`);
  if (existsSync(path)) return path;
  await mkdir(DATA, { recursive: true });
  const schema = join(DATA, 'schema.csv');
  await writeFile(schema, 'code,name,value,day,seen\n');
  await writeFile(join(DATA, 'schema.csvt'), 'Integer,String,Real,Date,DateTime\n');
  const partial = `${path}.partial`;
  await rm(partial, { force: true });
  for (let table = 0; table < tables; table++) {
    const count = Math.floor(rows / tables) + (table < rows % tables ? 1 : 0);
    const name = `table_${table}`;
    await run('ogr2ogr', [
      '-f',
      'GPKG',
      ...(table > 0 ? ['-update'] : []),
      partial,
      schema,
      '-nln',
      name,
      '-nlt',
      'POINT',
      '-a_srs',
      'EPSG:4326',
      '-lco',
      'GEOMETRY_NAME=geom',
    ]);
    const sql = `WITH RECURSIVE series(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM series WHERE i < ${count})
      SELECT i AS code, 'name ' || i || ' é, "quoted"' AS name, i * 0.5 AS value,
        date('2020-01-01', '+' || (i % 3650) || ' days') AS day,
        strftime('%Y-%m-%dT%H:%M:%SZ', 1600000000 + i * 37, 'unixepoch') AS seen,
        MakePoint(i % 36000 / 100.0 - 180, i % 16000 / 100.0 - 80, 4326) AS geom
      FROM series`;
    await run('ogr2ogr', ['-append', partial, schema, '-dialect', 'SQLite', '-sql', sql, '-nln', name, '-gt', '65536'], { maxBuffer: 1 << 24 });
  }
  await run('mv', [partial, path]);
  return path;
}

/** A Firebird database of `rows` rows in one table (libs/testing's rows database), made once per size on the bench's server. */
async function firebirdDatabase(rows: number): Promise<string> {
  const path = join(DATA, `firebird-${rows}.fdb`);
  if (existsSync(path)) return path;
  await mkdir(DATA, { recursive: true });
  const partial = join(DATA, `firebird-${rows}.partial.fdb`);
  await rm(partial, { force: true });
  await createRowsDatabase(firebirdFixtureServer(env), partial, rows);
  await run('mv', [partial, path]);
  return path;
}

/** The Firebird server of scripts/infra.sh (its pid file under the bench's data folder). */
const firebirdServerPid = (): number => Number(readFileSync(join(benchEnv('GEOJOBS_DATA_DIR'), 'firebird', 'firebird.pid'), 'utf8').split('\n')[0]);

/** The command-line way: `ogr2ogr -f CSV` (geometry as WKT) per table, then `zip` of the CSVs; its time and CPU seconds. */
async function throughOgr2ogr(file: string, tables: number): Promise<{ ms: number; cpu: number }> {
  const folder = join(DATA, 'ogr2ogr');
  await rm(folder, { recursive: true, force: true });
  await mkdir(folder, { recursive: true });
  const start = performance.now();
  const cpuBefore = cpuSeconds('self', true);
  for (let table = 0; table < tables; table++) {
    await run('ogr2ogr', ['-f', 'CSV', join(folder, `table_${table}.csv`), file, `table_${table}`, '-lco', 'GEOMETRY=AS_WKT']);
  }
  await run('sh', ['-c', 'cd "$0" && zip -q ../ogr2ogr.zip *.csv', folder]);
  const ms = performance.now() - start;
  const cpu = cpuSeconds('self', true) - cpuBefore;
  await rm(folder, { recursive: true, force: true });
  await rm(join(DATA, 'ogr2ogr.zip'), { force: true });
  return { ms, cpu };
}

/** export-service and a broker client that publishes `export.convert` and waits for the job's end. */
async function startExportService(amqpUrl: string, exportUrl: string) {
  const service = await startBenchService('export-service', 'GEOJOBS_EXPORT_PORT', {
    GEOJOBS_AMQP_URL: amqpUrl,
    GEOJOBS_EXPORT_DATABASE_URL: exportUrl,
    GEOJOBS_ALLOWED_HOSTS: '127.0.0.1',
    GEOJOBS_EXPORT_SCRATCH_DIR: join(DATA, 'scratch'),
    GEOJOBS_FIREBIRD_HOST: benchEnv('GEOJOBS_FIREBIRD_HOST'),
    GEOJOBS_FIREBIRD_PORT: benchEnv('GEOJOBS_FIREBIRD_PORT'),
    GEOJOBS_FIREBIRD_USER: benchEnv('GEOJOBS_FIREBIRD_USER'),
    GEOJOBS_FIREBIRD_PASSWORD: benchEnv('GEOJOBS_FIREBIRD_PASSWORD'),
  });
  const jobs = await jobRunner(amqpUrl);
  /** One `export.convert` job, timed from publishing the command to its end, with the service's CPU seconds meanwhile; its ZIP removed afterwards. */
  const convert = async (uri: string) => {
    const cpuBefore = cpuSeconds(service.process.pid!);
    const { jobId, ms, result } = await jobs.run<ConvertResult, 'export.convert'>('export.convert', { uri });
    const cpu = cpuSeconds(service.process.pid!) - cpuBefore;
    await rm(join(benchEnv('GEOJOBS_DATA_DIR'), 'storage', 'convert', jobId), { recursive: true, force: true });
    return { ms, cpu, rows: result.tables.reduce((sum, table) => sum + table.rows, 0), bytes: result.bytes };
  };
  return {
    convert,
    rssMb: () => peakRssMb(service.process.pid!),
    stop: async () => {
      await jobs.close();
      await service.stop();
    },
  };
}

const file = await geoPackage(ROWS, TABLES);
const { size } = await stat(file);
const server = await serveFile(file, size);
const small = await geoPackage(20_000, 2);
const firebirdFiles = [];
for (const rows of FIREBIRD_ROWS) {
  const path = await firebirdDatabase(rows);
  firebirdFiles.push({ rows, path, server: await serveFile(path, (await stat(path)).size) });
}
const warmUpServer = await serveFile(small, (await stat(small)).size);
const database = await freshDatabase('geojobs_bench_convert');
const vhost = await freshVhost('geojobs_bench_convert');
const exporter = await startExportService(vhost.url, withDatabase(benchEnv('GEOJOBS_EXPORT_DATABASE_URL'), database.name));

const service: { ms: number; cpu: number; bytes: number }[] = [];
const cli: { ms: number; cpu: number }[] = [];
const firebird = FIREBIRD_ROWS.map((rows) => ({ rows, ms: [] as number[], cpu: [] as number[], serverCpu: [] as number[] }));
const peaks: number[] = [];
try {
  // a service runs job after job: its code is compiled and its connections open when one arrives (ogr2ogr has nothing to warm)
  await exporter.convert(warmUpServer.url);
  for (let round = 0; round < ROUNDS; round++) {
    // each side goes first every other round, so neither always runs in the other's wake (page cache, CPU heat)
    const cliFirst = round % 2 === 1;
    if (cliFirst) cli.push(await throughOgr2ogr(file, TABLES));
    const converted = await exporter.convert(server.url);
    if (converted.rows !== ROWS) throw new Error(`converted ${converted.rows} rows, expected ${ROWS}`);
    service.push(converted);
    if (!cliFirst) cli.push(await throughOgr2ogr(file, TABLES));
  }
  peaks.push(exporter.rssMb());

  // Firebird: each size in turn, round after round (the smaller first, so neither always runs in the other's wake)
  for (let round = 0; round < FIREBIRD_ROUNDS; round++) {
    for (const [index, database] of firebirdFiles.entries()) {
      const serverBefore = cpuSeconds(firebirdServerPid());
      const converted = await exporter.convert(database.server.url);
      firebird[index].serverCpu.push(cpuSeconds(firebirdServerPid()) - serverBefore);
      firebird[index].cpu.push(converted.cpu);
      if (converted.rows !== database.rows) throw new Error(`converted ${converted.rows} Firebird rows, expected ${database.rows}`);
      firebird[index].ms.push(converted.ms);
    }
  }
  peaks.push(exporter.rssMb());
} finally {
  await exporter.stop();
  server.close();
  warmUpServer.close();
  for (const database of firebirdFiles) database.server.close();
  await vhost.remove();
  await database.remove();
}

const serviceMs = median(service.map((round) => round.ms));
const cliMs = median(cli.map((round) => round.ms));
const serviceCpu = median(service.map((round) => round.cpu));
const cliCpu = median(cli.map((round) => round.cpu));
const peak = Math.max(...peaks);
const rate = (ms: number) => Math.round((ROWS / ms) * 1000);
console.log(`convert benchmark: GeoPackage of ${ROWS} rows in ${TABLES} tables (${(size / 1e6).toFixed(1)} MB), median of ${ROUNDS} rounds`);
console.log(
  `  export-service, whole job (HTTP download, CSVs, ZIP into storage)   ${String(rate(serviceMs)).padStart(7)} rows/s   (${(serviceMs / 1000).toFixed(2)} s, ZIP ${(service[0].bytes / 1e6).toFixed(1)} MB)`,
);
console.log(
  `  ogr2ogr -f CSV per table + zip                                      ${String(rate(cliMs)).padStart(7)} rows/s   (${(cliMs / 1000).toFixed(2)} s)`,
);
console.log(`  ratio export-service / (ogr2ogr + zip)   ${(serviceMs / cliMs).toFixed(2)}×   (target ≤ 1.00×)`);
console.log(
  `  CPU seconds (user + system; on a shared machine the steadier figure)   export-service ${serviceCpu.toFixed(1)} s, ogr2ogr + zip ${cliCpu.toFixed(1)} s, ratio ${(serviceCpu / cliCpu).toFixed(2)}×`,
);
console.log(`Firebird 3 databases (one table: bigint, varchar, numeric, timestamp, boolean, varchar with NULLs), median of ${FIREBIRD_ROUNDS} rounds`);
for (const database of firebird) {
  const ms = median(database.ms);
  console.log(
    `  ${String(database.rows).padStart(9)} rows   ${String(Math.round((database.rows / ms) * 1000)).padStart(7)} rows/s   (${(ms / 1000).toFixed(2)} s; rounds ${database.ms.map((round) => (round / 1000).toFixed(2)).join(', ')} s; CPU ${median(database.cpu).toFixed(1)} s in export-service + ${median(database.serverCpu).toFixed(1)} s in Firebird)`,
  );
}
if (firebird.length >= 2) {
  const [smaller, larger] = [firebird[0], firebird[firebird.length - 1]];
  console.log(
    `  ratio ${larger.rows} rows / ${smaller.rows} rows   ${(median(larger.ms) / median(smaller.ms)).toFixed(2)}× the time for ${larger.rows / smaller.rows}× the rows   (target ≤ 11×)`,
  );
}
console.log(
  `  export-service peak RSS (VmHWM)          ${peak} MB   (target < 300 MB; after the GeoPackage rounds ${peaks[0]} MB; node flags: ${benchNodeArgs().join(' ') || 'defaults'})`,
);
console.log(
  `  per round: ${service.map((round, index) => `${(round.ms / 1000).toFixed(2)} s vs ${(cli[index].ms / 1000).toFixed(2)} s (${(round.ms / cli[index].ms).toFixed(2)}×)`).join(', ')}`,
);
console.log(
  `  load average at the end: ${loadavg()
    .map((load) => load.toFixed(2))
    .join(' ')} on this machine`,
);
