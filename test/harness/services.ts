import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { serviceNodeArgs, serviceProcessEnv } from '../../libs/shared/src/bootstrap/node-args.js';
import { freePort, waitFor } from '../../libs/testing/src/index.js';
import type { TestContext } from './context.js';
import { readHarness, ROOT } from './global-setup.js';
import { TEST_RETRY_DELAYS_MS } from './broker.js';

/** The first admin of every gateway a test starts. */
export const TEST_ADMIN = { username: 'admin', password: 'correct horse battery staple' };

export type ServiceName = 'gateway' | 'geo-service' | 'export-service' | 'analytics-service';

const PREFIX: Record<ServiceName, string> = {
  gateway: 'GATEWAY',
  'geo-service': 'GEO',
  'export-service': 'EXPORT',
  'analytics-service': 'ANALYTICS',
};

export interface RunningService {
  name: ServiceName;
  url: string;
  process: ChildProcess;
  output(): string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: the process dies mid-work, acking nothing. */
  kill(): Promise<void>;
}

/** This test file's storage folder, shared by every service it starts (as on one machine). */
export const storageDir = (context: TestContext): string => join(ROOT, '.data', 'test-storage', context.vhost);

/** The service's environment against this test file's database, vhost and storage folder. */
export function serviceEnv(name: ServiceName, context: TestContext, port: number): Record<string, string> {
  const prefix = PREFIX[name];
  const env: Record<string, string> = {
    GEOJOBS_AMQP_URL: context.amqpUrl,
    GEOJOBS_STORAGE_DIR: storageDir(context),
    GEOJOBS_LOG_LEVEL: process.env.GEOJOBS_TEST_LOG_LEVEL ?? 'warn',
    GEOJOBS_RETRY_DELAYS_MS: TEST_RETRY_DELAYS_MS.join(','),
    [`GEOJOBS_${prefix}_PORT`]: String(port),
  };
  const database = context.databaseUrls[prefix.toLowerCase() as 'gateway' | 'geo' | 'export'];
  if (database) env[`GEOJOBS_${prefix}_DATABASE_URL`] = database;
  if (name === 'export-service') {
    const { GEOJOBS_FIREBIRD_HOST, GEOJOBS_FIREBIRD_PORT, GEOJOBS_FIREBIRD_USER, GEOJOBS_FIREBIRD_PASSWORD } = readHarness().env;
    Object.assign(env, { GEOJOBS_FIREBIRD_HOST, GEOJOBS_FIREBIRD_PORT, GEOJOBS_FIREBIRD_USER, GEOJOBS_FIREBIRD_PASSWORD });
  }
  if (name === 'gateway') {
    Object.assign(env, {
      GEOJOBS_JWT_SECRET: readHarness().env.GEOJOBS_JWT_SECRET,
      GEOJOBS_ADMIN_USER: TEST_ADMIN.username,
      GEOJOBS_ADMIN_PASSWORD: TEST_ADMIN.password,
      // tests poll jobs every 50 ms, far faster than a client should; the rate-limit test sets its own limit
      GEOJOBS_RATE_LIMIT_PER_MINUTE: '0',
    });
  }
  return env;
}

/** Runs the built service as its own process, as production does, and waits until its /health says up. */
export async function startService(name: ServiceName, context: TestContext, extraEnv: Record<string, string> = {}): Promise<RunningService> {
  const port = await freePort();
  const child = spawn(process.execPath, [...serviceNodeArgs(name), join(ROOT, 'dist', 'apps', name, 'src', 'main.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...serviceProcessEnv(name), ...serviceEnv(name, context, port), ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const service: RunningService = {
    name,
    url,
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };

  try {
    const outcome = await waitFor(
      async () => (child.exitCode !== null ? 'exited' : (await fetch(`${url}/health`)).ok && 'healthy'),
      () => `${name} to become healthy:\n${output}`,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    if (outcome === 'exited') throw new Error(`${name} exited with ${child.exitCode}:\n${output}`);
  } catch (error) {
    await service.kill();
    throw error;
  }
  return service;
}
