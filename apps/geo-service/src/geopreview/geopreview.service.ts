import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import {
  causedBy,
  fanOut,
  HostPolicy,
  JobFailure,
  PipelineRunner,
  PipelineStepError,
  PostgresStepCache,
  type Broker,
  type Envelope,
  type GeoPreviewMergeV1,
  type GeoPreviewSubjectV1,
  type GeoPreviewV1,
  type JobContext,
  type JobErrorV1,
  type JobOutcome,
  type JobResult,
  type PipelineResult,
  type Storage,
} from '#shared';
import type { GeoConfig } from '../config/geo.config.js';
import { DescribeService, type LayerDescription } from './describe.service.js';
import { DownloadService } from './download.service.js';
import { GeopreviewError } from './geopreview.errors.js';
import { ImportService } from './import.service.js';
import { layerTableName } from './layer-name.js';
import { NotifyService, type PreviewOutcome } from './notify.service.js';
import { SourceService } from './source.service.js';
import { geopreviewPipeline } from './steps/geopreview.pipeline.js';
import { SHARED_PREFIX_ROOT } from './steps/share.step.js';
import { OpenedLayers, type GeopreviewDependencies, type GeopreviewInput } from './steps/geopreview.steps.js';
import { UnpackService } from './unpack.service.js';

export interface ImportedLayer extends LayerDescription {
  resourceId: string;
  datasetId: string;
  /** The layer's key in the upload: what a command's `layer` selects. */
  sourceLayer: string;
  droppedFeatures: number;
  recoveries: string[];
}

type GeopreviewRun = PipelineResult<ReturnType<typeof geopreviewPipeline>['outputsType']>;

/** Subtasks and merge of a fanned-out geopreview have this long to finish. */
const FANOUT_DEADLINE_SECONDS = 6 * 3_600;
/**
 * A staging table or a shared upload this old belongs to a geopreview that never finished (its geo-service was
 * killed; a merge removes its shared upload even when the saga fails): they are looked for at start and hourly.
 */
const LEFTOVER_AGE_MS = 24 * 3_600_000;
const LEFTOVER_SWEEP_INTERVAL_MS = 3_600_000;

/**
 * Geopreview on geo-service: the pipeline (download → unpack → open → share → import → describe, see
 * steps/geopreview.pipeline.ts), then notify — the portal hears of the outcome whatever it is. An upload of several
 * layers fans out through the saga coordinator: one `geo.preview.layer` subtask per layer, then a
 * `geo.preview.merge` that describes them as one result and notifies.
 */
export class GeopreviewService implements OnModuleInit, OnModuleDestroy {
  private readonly dependencies: GeopreviewDependencies;
  private readonly notifier: NotifyService;
  private readonly runner: PipelineRunner;
  private leftoverSweeper?: NodeJS.Timeout;

  constructor(
    config: GeoConfig,
    database: DataSource,
    private readonly broker: Broker,
    storage: Storage,
    private readonly logger: Logger,
  ) {
    const portal = config.CKAN_API_BASE_URL && config.CKAN_API_KEY ? { baseUrl: config.CKAN_API_BASE_URL, apiKey: config.CKAN_API_KEY } : undefined;
    const policy = new HostPolicy(config.GEOJOBS_ALLOWED_HOSTS);
    this.notifier = new NotifyService(
      config,
      policy,
      { attempts: config.GEOJOBS_GEO_CALLBACK_ATTEMPTS, timeoutMs: config.GEOJOBS_GEO_CALLBACK_TIMEOUT_MS, retryBaseMs: config.GEOJOBS_GEO_CALLBACK_RETRY_BASE_MS },
      logger.child({ component: 'notify' }),
    );
    const limits = {
      maxBytes: config.GEOJOBS_GEO_MAX_DOWNLOAD_BYTES,
      connectTimeoutMs: config.GEOJOBS_GEO_CONNECT_TIMEOUT_MS,
      readTimeoutMs: config.GEOJOBS_GEO_READ_TIMEOUT_MS,
      totalTimeoutMs: config.GEOJOBS_GEO_DOWNLOAD_TIMEOUT_MS,
    };
    this.dependencies = {
      downloads: new DownloadService(policy, limits, storage, portal),
      storage,
      unpack: new UnpackService({
        maxUnpackedBytes: config.GEOJOBS_GEO_MAX_UNPACKED_BYTES,
        maxRatio: config.GEOJOBS_GEO_MAX_UNPACK_RATIO,
        maxEntries: config.GEOJOBS_GEO_MAX_ARCHIVE_ENTRIES,
      }),
      sources: new SourceService(),
      imports: new ImportService(config.GEOJOBS_GEO_DATABASE_URL, database, logger),
      descriptions: new DescribeService(database),
      database,
    };
    this.runner = new PipelineRunner({ cache: new PostgresStepCache(database, 'layers'), scratchRoot: config.GEOJOBS_GEO_SCRATCH_DIR });
  }

  async onModuleInit(): Promise<void> {
    await this.sweepLeftovers();
    this.leftoverSweeper = setInterval(() => void this.sweepLeftovers(), LEFTOVER_SWEEP_INTERVAL_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.leftoverSweeper);
  }

  /** Removes the staging tables and shared uploads of geopreviews that never finished. */
  private async sweepLeftovers(): Promise<void> {
    try {
      await this.dependencies.imports.sweepStaging(LEFTOVER_AGE_MS);
      // a job's shared folder goes whole (as its merge removes it), once the newest file in it is that old
      const newest = new Map<string, number>();
      for await (const object of this.dependencies.storage.list(SHARED_PREFIX_ROOT)) {
        const folder = object.key.slice(0, object.key.indexOf('/', SHARED_PREFIX_ROOT.length) + 1);
        newest.set(folder, Math.max(newest.get(folder) ?? 0, object.modifiedAt.getTime()));
      }
      const stale = [...newest].filter(([, modified]) => Date.now() - modified > LEFTOVER_AGE_MS).map(([folder]) => folder);
      for (const folder of stale) await this.dependencies.storage.deletePrefix(folder);
      if (stale.length > 0) this.logger.warn({ folders: stale }, 'removed shared uploads of geopreviews that never finished');
    } catch (error) {
      this.logger.warn({ err: error }, 'could not look for what unfinished geopreviews left');
    }
  }

  /** `geo.preview`: a whole upload, or one layer of it (a subtask of a fan-out). */
  async run(command: Envelope<GeoPreviewV1>, job: JobContext): Promise<JobOutcome> {
    const { signal } = job;
    const { notify, ...input } = command.payload;
    let outcome: PreviewOutcome;
    try {
      const run = await this.preview(input, job);
      const { describe, import: imported, share, open } = run.outputs;
      if (share) {
        // the subtasks import the layers; the merge step describes them and notifies
        return fanOut({
          subtasks: open.layers.map((layer) => ({
            type: 'geo.preview.layer',
            input: { datasetId: input.datasetId, resourceId: input.resourceId, url: share.uri, layer: layer.key },
          })),
          merge: {
            type: 'geo.preview.merge',
            input: { datasetId: input.datasetId, resourceId: input.resourceId, url: input.url, format: input.format, notify, layers: open.layers.map((layer) => layer.key), sharedPrefix: share.sharedPrefix },
            always: true,
          },
          deadlineSeconds: FANOUT_DEADLINE_SECONDS,
        });
      }
      const layer: ImportedLayer = {
        ...describe!,
        resourceId: input.resourceId,
        datasetId: input.datasetId,
        sourceLayer: imported!.sourceLayer,
        droppedFeatures: imported!.droppedFeatures,
        recoveries: imported!.recoveries,
      };
      await this.announce(command, layer);
      outcome = { result: { ...layer, steps: run.steps } };
    } catch (error) {
      if (signal.aborted) throw error; // cancelled: the gateway already ended the job
      this.logger.warn({ err: error, resourceId: input.resourceId }, 'geopreview failed');
      outcome = { error: toJobError(error) };
    }
    return this.finish({ ...input, notify }, outcome);
  }

  /**
   * `geo.preview.merge`: every layer subtask has settled. The layers they imported, described as one result (or
   * their errors), go to the portal; the upload they shared is removed.
   */
  async merge(command: Envelope<GeoPreviewMergeV1>): Promise<JobResult> {
    const { saga, layers, sharedPrefix, ...target } = command.payload;
    let outcome: PreviewOutcome;
    const errors = saga.errors ?? [];
    if (errors.length > 0) {
      const messages = [...new Set(errors.map((error) => error.message))].join('; ');
      outcome = { error: { type: errors[0].type, class: errors[0].class, message: `the upload's ${saga.subtasks} layers could not all be previewed: ${messages}` } };
    } else {
      try {
        const described = await Promise.all(layers.map((key) => this.dependencies.descriptions.describe(layerTableName(target.resourceId, key))));
        const imported = described.map((description, index) => ({ ...description, resourceId: target.resourceId, datasetId: target.datasetId, sourceLayer: layers[index] }));
        outcome = { result: { layerId: imported[0].layerId, layers: imported } };
      } catch (error) {
        outcome = { error: toJobError(error) };
      }
    }
    await this.dependencies.storage.deletePrefix(sharedPrefix);
    // the portal knows the job the parent is: its callbacks name the parent
    return this.finish({ ...target, jobId: saga.parentId }, outcome);
  }

  private async preview(input: GeopreviewInput, job: JobContext): Promise<GeopreviewRun> {
    const opened = new OpenedLayers();
    try {
      const { jobId: _jobId, url: _url, ...identity } = input;
      return await this.runner.run(geopreviewPipeline(this.dependencies, opened), input, {
        signal: job.signal,
        // what the steps after the download compute depends on the file's content (the download's output), not its URL
        identity,
        onProgress: ({ current, total, message }) => job.progress(current, total, message),
      });
    } finally {
      await opened.close();
    }
  }

  /** Notify: the callbacks first (bounded retries), so the job ends (as the worker reports it) once the portal has been told. */
  private async finish(target: GeoPreviewSubjectV1, outcome: PreviewOutcome): Promise<JobResult> {
    await this.notifier.notify({ payload: target }, outcome);
    if ('error' in outcome) throw new JobFailure(outcome.error);
    return outcome.result;
  }

  /** `geo.layer.imported`, for whoever serves layers (events need no subscriber: see Broker.publishEnvelope). */
  private async announce(command: Envelope<GeoPreviewV1>, layer: ImportedLayer): Promise<void> {
    const { payload } = command;
    await this.broker.publishEvent(
      'geo.layer.imported',
      { jobId: payload.jobId, resourceId: payload.resourceId, layerId: layer.layerId, description: { ...layer } },
      causedBy(command),
    );
  }
}

/** The portal's `{error_type, error_class, message}`; anything unexpected is an `internal` error. */
export function toJobError(error: unknown): JobErrorV1 {
  if (error instanceof PipelineStepError) return toJobError(error.cause);
  if (error instanceof GeopreviewError) return { type: error.type, class: error.name, message: error.message };
  const unexpected = error instanceof Error ? error : new Error(String(error));
  return { type: 'internal', class: unexpected.name, message: unexpected.message };
}
