import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { EXCHANGES, type Broker, type CommandKey, type Commands, type Envelope, type GeoFormat, type JobErrorV1, type JobFanoutV1 } from '#shared';
import { waitFor } from '../../libs/testing/src/index.js';
import { startTestBroker, Tap } from '../harness/broker.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { startService, storageDir, type RunningService } from '../harness/services.js';
import { FileServer } from './geo-files.js';

export type Outcome =
  | { state: 'succeeded'; result: Record<string, any>; events: Envelope<Record<string, any>>[] }
  | { state: 'failed'; error: JobErrorV1; events: Envelope<Record<string, any>>[] }
  | { state: 'fanout'; fanout: JobFanoutV1; events: Envelope<Record<string, any>>[] };

/** A geo-service process of this file's own, a file server, and a way to run a geopreview and see what it did. */
export class GeopreviewHarness {
  context!: TestContext;
  broker!: Broker;
  events!: Tap;
  files!: FileServer;
  service!: RunningService;
  scratch!: string;
  admin!: pg.Client;

  async start(env: (files: FileServer) => Record<string, string>): Promise<this> {
    this.context = await createTestContext();
    this.broker = await startTestBroker(this.context);
    this.events = await Tap.on(this.context.amqpUrl, EXCHANGES.events, '#');
    this.files = await new FileServer().start();
    this.scratch = await mkdtemp(join(tmpdir(), 'geojobs-geo-test-'));
    this.service = await startService('geo-service', this.context, { GEOJOBS_GEO_SCRATCH_DIR: this.scratch, ...env(this.files) });
    this.admin = new pg.Client({ connectionString: this.context.databaseUrls.admin });
    await this.admin.connect();
    return this;
  }

  /** The storage folder geo-service uses (the local backend). */
  get storageDir(): string {
    return storageDir(this.context);
  }

  /** Runs a command that must succeed; returns its job's result. */
  async runSuccess<K extends CommandKey>(key: K, payload: Commands[K] & { jobId: string }): Promise<Record<string, any>> {
    const outcome = await this.run(key, payload);
    if (outcome.state !== 'succeeded') throw new Error(`expected success, got ${JSON.stringify(outcome)}\n${this.service.output().slice(-3000)}`);
    return outcome.result;
  }

  async stop(): Promise<void> {
    await this.service?.stop();
    await this.admin?.end();
    await this.files?.close();
    await this.events?.close();
    await this.broker?.close();
    await this.context?.dispose();
  }

  async preview(url: string, options: { resourceId?: string; format?: GeoFormat; layer?: string; timeoutMs?: number } = {}): Promise<Outcome> {
    return this.run(
      'geo.preview',
      {
        jobId: randomUUID(),
        datasetId: 'dataset-1',
        resourceId: options.resourceId ?? randomUUID(),
        url,
        ...(options.format ? { format: options.format } : {}),
        ...(options.layer ? { layer: options.layer } : {}),
      },
      options.timeoutMs,
    );
  }

  /** Sends a command to geo-service as the gateway would, and waits until its job ends or fans out. */
  async run<K extends CommandKey>(key: K, payload: Commands[K] & { jobId: string }, timeoutMs = 60_000): Promise<Outcome> {
    const { jobId } = payload;
    await this.broker.publishCommand(key, payload, { correlationId: jobId });
    const ofJob = () => this.events.envelopes<Record<string, any>>().filter((event) => event.payload.jobId === jobId);
    const end = await waitFor(
      () => ofJob().find((event) => event.type === 'job.succeeded' || event.type === 'job.failed' || event.type === 'job.fanout'),
      `${key} of job ${jobId} to end`,
      { timeoutMs },
    );
    const events = ofJob();
    if (end.type === 'job.succeeded') return { state: 'succeeded', result: end.payload.result as Record<string, any>, events };
    if (end.type === 'job.fanout') return { state: 'fanout', fanout: end.payload as JobFanoutV1, events };
    return { state: 'failed', error: end.payload.error as JobErrorV1, events };
  }

  async expectSuccess(url: string, options: Parameters<GeopreviewHarness['preview']>[1] = {}): Promise<Record<string, any>> {
    const outcome = await this.preview(url, options);
    if (outcome.state !== 'succeeded') throw new Error(`expected success, got ${JSON.stringify(outcome)}\n${this.service.output().slice(-3000)}`);
    return outcome.result;
  }

  /** A multi-layer upload: what the job fanned out to (the subtasks and the merge it declared). */
  async expectFanout(url: string, options: Parameters<GeopreviewHarness['preview']>[1] = {}): Promise<JobFanoutV1 & { jobId: string }> {
    const outcome = await this.preview(url, options);
    if (outcome.state !== 'fanout') throw new Error(`expected a fan-out, got ${JSON.stringify(outcome)}\n${this.service.output().slice(-3000)}`);
    return outcome.fanout;
  }

  async expectFailure(url: string, options: Parameters<GeopreviewHarness['preview']>[1] = {}): Promise<JobErrorV1> {
    const outcome = await this.preview(url, options);
    if (outcome.state !== 'failed') throw new Error(`expected a failure, got ${JSON.stringify(outcome).slice(0, 500)}`);
    return outcome.error;
  }

  async query<T = Record<string, any>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.admin.query(sql, params)).rows as T[];
  }

  /** Tables in the layers schema: nothing half-imported means no staging table and no table of a failed resource. */
  async layerTables(): Promise<string[]> {
    const rows = await this.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'layers' ORDER BY 1`);
    return rows.map((row) => row.tablename);
  }

  /** Staging tables left in the staging schema: an import that stopped left none. */
  async stagingTables(): Promise<string[]> {
    const rows = await this.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'layers_staging' ORDER BY 1`);
    return rows.map((row) => row.tablename);
  }

  /** The scratch folders of finished jobs are removed. */
  async scratchLeft(): Promise<string[]> {
    return readdir(this.scratch);
  }
}
