/**
 * `bash scripts/with-infra.sh node dist/bench/firebird-source.bench.js`: rows/s of export.convert's Firebird source
 * (FirebirdOpener → TableSource.rows) over databases of 100,000 and 1,000,000 rows made in the engine by
 * libs/testing's fixture builder, on the Firebird server of scripts/infra.sh. Prints, for each size, the time to read
 * every row, rows/s, the larger's time over the smaller's (a cursor is linear: ≈10×; paging with FIRST/SKIP would be
 * quadratic), the CPU seconds spent here and in the server (wall time on a loaded machine is mostly waiting for a
 * core), and this process's peak RSS. BENCH_FIREBIRD_ROWS=100000,1000000 sets the sizes; BENCH_FIREBIRD_BACKUP=1
 * also restores each from a gbak backup first and times that. The databases are kept in
 * $GEOJOBS_DATA_DIR/bench-firebird for the next run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { FirebirdOpener } from '../apps/export-service/src/convert/sources/firebird/firebird.opener.js';
import { backupFirebirdDatabase, createRowsDatabase, firebirdFixtureServer } from '../libs/testing/src/firebird-fixtures.js';
import { peakRssMb } from './support/job-runner.js';

const SIZES = (process.env.BENCH_FIREBIRD_ROWS ?? '100000,1000000').split(',').map(Number);
const WITH_BACKUP = process.env.BENCH_FIREBIRD_BACKUP === '1';
const DIR = join(process.env.GEOJOBS_DATA_DIR ?? join(process.cwd(), '.data', 'dev'), 'bench-firebird');

/** CPU seconds (user + system) of a process: this one, or the Firebird server of scripts/infra.sh (its pid file). */
const cpuSeconds = (pid: number | 'self'): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 a second on Linux)
};
const serverPid = (): number =>
  Number(readFileSync(join(process.env.GEOJOBS_DATA_DIR ?? join(process.cwd(), '.data', 'dev'), 'firebird', 'firebird.pid'), 'utf8').split('\n')[0]);

async function main(): Promise<void> {
  const server = firebirdFixtureServer(process.env);
  const opener = new FirebirdOpener(server);
  const never = new AbortController().signal;
  await mkdir(DIR, { recursive: true });
  const results: { rows: number; ms: number; restoreMs?: number }[] = [];

  for (const size of SIZES) {
    const fdb = join(DIR, `rows-${size}.fdb`);
    if (!existsSync(fdb)) {
      const started = performance.now();
      await createRowsDatabase(server, fdb, size);
      console.log(`made ${fdb} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    let input = fdb;
    if (WITH_BACKUP) {
      input = join(DIR, `rows-${size}.fbk`);
      if (!existsSync(input)) await backupFirebirdDatabase(server, fdb, input);
    }
    const scratch = join(DIR, `scratch-${size}`);
    await rm(scratch, { recursive: true, force: true });

    const opening = performance.now();
    const source = await opener.open(input, scratch, never);
    const restoreMs = performance.now() - opening;
    const started = performance.now();
    const cpuBefore = { self: cpuSeconds('self'), server: cpuSeconds(serverPid()) };
    let rows = 0;
    try {
      for (const table of await source.tables()) for await (const _row of source.rows(table, never)) rows++;
    } finally {
      await source.close();
      await rm(scratch, { recursive: true, force: true });
    }
    const ms = performance.now() - started;
    const cpu = { self: cpuSeconds('self') - cpuBefore.self, server: cpuSeconds(serverPid()) - cpuBefore.server };
    if (rows !== size) throw new Error(`read ${rows} rows of ${size}`);
    results.push({ rows, ms, restoreMs: WITH_BACKUP ? restoreMs : undefined });
    const restore = WITH_BACKUP ? `, restore ${(restoreMs / 1000).toFixed(1)} s` : '';
    console.log(
      `${rows} rows: ${(ms / 1000).toFixed(2)} s, ${Math.round(rows / (ms / 1000))} rows/s${restore}; CPU ${cpu.self.toFixed(1)} s here + ` +
        `${cpu.server.toFixed(1)} s in the server (${Math.round(rows / (cpu.self + cpu.server))} rows per CPU second); peak RSS ${peakRssMb('self')} MB; ` +
        `load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`,
    );
  }
  if (results.length >= 2) {
    const [small, large] = [results[0], results[results.length - 1]];
    console.log(`${large.rows} rows took ${(large.ms / small.ms).toFixed(2)}× the time of ${small.rows} (rows ${large.rows / small.rows}×)`);
  }
}

await main();
