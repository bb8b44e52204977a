/**
 * `npm run test:chaos` (through scripts/chaos.sh): runs the chaos suite with sizes, durations and ports from the
 * environment, prints its one summary line, and exits 1 on any loss, duplicate or problem.
 *
 *   GEOJOBS_CHAOS_JOBS (10000)  GEOJOBS_CHAOS_SAGAS (50)  GEOJOBS_CHAOS_SAGA_CHILDREN (10)  GEOJOBS_CHAOS_RATE (80 jobs/s)
 *   GEOJOBS_CHAOS_RABBITMQ_NODES (3)  GEOJOBS_CHAOS_KILL_EVERY_MS (5000)  GEOJOBS_CHAOS_NODE_DOWN_MS (10000)
 *   GEOJOBS_CHAOS_CLUSTER_DOWN_MS (30000; 0: no cluster outage)  GEOJOBS_CHAOS_POSTGRES_DOWN_MS (5000)
 *   GEOJOBS_CHAOS_SETTLE_TIMEOUT_MS (600000)  GEOJOBS_CHAOS_PORT_BASE (27900)  GEOJOBS_CHAOS_DATA_DIR (.data/chaos)
 *   GEOJOBS_CHAOS_KEEP_INFRA (1: leave PostgreSQL and RabbitMQ running)
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChaos, summaryLine } from './chaos.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function numberFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`chaos: ${name}='${raw}' is not a whole number\n`);
    process.exit(78);
  }
  return value;
}

const report = await runChaos({
  root,
  dataDir: resolve(process.env.GEOJOBS_CHAOS_DATA_DIR ?? join(root, '.data', 'chaos')),
  portBase: numberFrom('GEOJOBS_CHAOS_PORT_BASE', 27_900),
  databaseName: 'geojobs_chaos',
  rabbitmqNodes: numberFrom('GEOJOBS_CHAOS_RABBITMQ_NODES', 3),
  jobs: numberFrom('GEOJOBS_CHAOS_JOBS', 10_000),
  sagas: numberFrom('GEOJOBS_CHAOS_SAGAS', 50),
  sagaChildren: numberFrom('GEOJOBS_CHAOS_SAGA_CHILDREN', 10),
  jobsPerSecond: numberFrom('GEOJOBS_CHAOS_RATE', 80),
  serviceKillEveryMs: numberFrom('GEOJOBS_CHAOS_KILL_EVERY_MS', 5_000),
  nodeDownMs: numberFrom('GEOJOBS_CHAOS_NODE_DOWN_MS', 10_000),
  clusterDownMs: numberFrom('GEOJOBS_CHAOS_CLUSTER_DOWN_MS', 30_000),
  postgresDownMs: numberFrom('GEOJOBS_CHAOS_POSTGRES_DOWN_MS', 5_000),
  retryDelaysMs: [1_000, 5_000, 30_000],
  settleTimeoutMs: numberFrom('GEOJOBS_CHAOS_SETTLE_TIMEOUT_MS', 600_000),
  keepInfra: process.env.GEOJOBS_CHAOS_KEEP_INFRA === '1',
  log: (line) => process.stderr.write(`[chaos] ${line}\n`),
});

for (const problem of report.problems) process.stderr.write(`[chaos] PROBLEM: ${problem}\n`);
process.stderr.write(`[chaos] ${report.ok ? 'passed' : 'FAILED'} in ${(report.durationMs / 1000).toFixed(0)} s\n`);
process.stdout.write(`${summaryLine(report)}\n`);
process.exit(report.ok ? 0 : 1);
