import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  Broker,
  causedBy,
  fanOut,
  JobFailure,
  LOGGER,
  PipelineRunner,
  PipelineStepError,
  type Envelope,
  type GeoPreviewMergeV1,
  type GeoPreviewSubjectV1,
  type GeoPreviewV1,
  type JobContext,
  type JobErrorV1,
  type JobOutcome,
  type JobResult,
  type PipelineResult,
} from '#shared';
import type { LayerDescription } from './describe.service.js';
import { GeopreviewError } from './geopreview.errors.js';
import { layerTableName } from './layer-name.js';
import { NotifyService, type PreviewOutcome } from './notify.service.js';
import { geopreviewPipeline } from './steps/geopreview.pipeline.js';
import { GeopreviewDependencies, OpenedLayers, type GeopreviewInput } from './steps/geopreview.steps.js';

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
 * Geopreview on geo-service: the pipeline (download → unpack → open → share → import → describe, see
 * steps/geopreview.pipeline.ts), then notify — the portal hears of the outcome whatever it is. An upload of several
 * layers fans out through the saga coordinator: one `geo.preview.layer` subtask per layer, then a
 * `geo.preview.merge` that describes them as one result and notifies. What a geopreview that never finished left
 * is LeftoversSweeper's. (The gateway's GeopreviewService is another thing: it only submits `geo.preview` jobs.)
 */
@Injectable()
export class LayerPreviewService {
  constructor(
    @Inject(Broker) private readonly broker: Broker,
    @Inject(PipelineRunner) private readonly runner: PipelineRunner,
    @Inject(NotifyService) private readonly notifier: NotifyService,
    @Inject(GeopreviewDependencies) private readonly dependencies: GeopreviewDependencies,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

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
            input: {
              datasetId: input.datasetId,
              resourceId: input.resourceId,
              url: input.url,
              format: input.format,
              notify,
              layers: open.layers.map((layer) => layer.key),
              sharedPrefix: share.sharedPrefix,
            },
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
      outcome = {
        error: { type: errors[0].type, class: errors[0].class, message: `the upload's ${saga.subtasks} layers could not all be previewed: ${messages}` },
      };
    } else {
      try {
        const described = await Promise.all(layers.map((key) => this.dependencies.descriptions.describe(layerTableName(target.resourceId, key))));
        const imported = described.map((description, index) => ({
          ...description,
          resourceId: target.resourceId,
          datasetId: target.datasetId,
          sourceLayer: layers[index],
        }));
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
