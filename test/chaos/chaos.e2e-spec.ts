import { runChaos, summaryLine, type ChaosReport } from '../../scripts/chaos/chaos.js';
import { ROOT, TEST_INFRA_ENV } from '../harness/global-setup.js';

/**
 * The quick version of `npm run test:chaos`: a few hundred jobs and five sagas on a single RabbitMQ node, with one
 * PostgreSQL restart, one kill -9 of the broker and service copies killed every few seconds. Its own data folder and
 * ports (the test PostgreSQL port's block, + 300 and up), since it stops and kills its servers.
 */
const PORT_BASE = Number(TEST_INFRA_ENV.GEOJOBS_PG_PORT) - 432 + 300;

describe('chaos, quick version (two copies of each service, kills, restarts, poison; real servers)', () => {
  let report: ChaosReport;
  const lines: string[] = [];

  beforeAll(async () => {
    report = await runChaos({
      root: ROOT,
      dataDir: `${TEST_INFRA_ENV.GEOJOBS_DATA_DIR}-chaos`,
      portBase: PORT_BASE,
      databaseName: 'geojobs_test_chaos',
      rabbitmqNodes: 1,
      jobs: 300,
      sagas: 5,
      sagaChildren: 5,
      jobsPerSecond: 30,
      serviceKillEveryMs: 4_000,
      nodeDownMs: 2_000,
      clusterDownMs: 0,
      postgresDownMs: 3_000,
      retryDelaysMs: [200, 1_000, 5_000],
      settleTimeoutMs: 120_000,
      keepInfra: process.env.GEOJOBS_TEST_KEEP_INFRA === '1',
      log: (line) => lines.push(line),
    });
  }, 280_000);

  it('loses nothing and does nothing twice', () => {
    expect(report.problems).toEqual([]);
    expect(summaryLine(report)).toBe('jobs 300 succeeded 300 lost 0 duplicated 0; sagas 5 merged-once 5; followups 5 fired-once 5');
    expect(report.ok).toBe(true);
  });

  it('went through every kind of failure it names', () => {
    const log = lines.join('\n');
    expect(log).toMatch(/API while PostgreSQL is down: 503 "the database is unavailable/);
    expect(log).toMatch(/the API answers again \(.*the same process as before the outage\)/);
    expect(log).toMatch(/kill -9 RabbitMQ node 1/);
    expect(log).toMatch(/kill -9 (gateway|geo-service|export-service|analytics-service)#[12]/);
    expect(log).toMatch(/published a poison message into each of geo_q, export_q, analytics_q, saga_q, followup_q/);
  });
});
