import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  EXPORT_FORMATS,
  JobFailure,
  LOGGER,
  PipelineRunner,
  PipelineStepError,
  STORAGE,
  type Envelope,
  type ExportLayersV1,
  type JobContext,
  type JobOutcome,
  type Storage,
} from '#shared';
import { EXPORT_CONFIG, type ExportConfig } from '../config/export.config.js';
import { LayersRepository } from './layers.repository.js';
import { layersExportPipeline } from './steps/layers-export.pipeline.js';
import { LayerGoneError, type LayersExportInput } from './steps/layers-export.steps.js';

/** The ZIP's name when the command gives none. */
export const DEFAULT_EXPORT_NAME = 'export';

/**
 * `export.layers`: previewed layers as one ZIP (CSV, Shapefile, GeoPackage, GeoJSON and a README), through the
 * pipeline stamps → bundle (steps/layers-export.pipeline.ts): an export of unchanged layers returns the file made
 * before, its bundle step `cached`. Bounded by GEOJOBS_EXPORT_DEADLINE_SECONDS; cancelled by the job's signal.
 */
@Injectable()
export class LayersExportService {
  constructor(
    @Inject(PipelineRunner) private readonly runner: PipelineRunner,
    @Inject(LayersRepository) private readonly repository: LayersRepository,
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(EXPORT_CONFIG) private readonly config: ExportConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async run(command: Envelope<ExportLayersV1>, job: JobContext): Promise<JobOutcome> {
    const { layers, formats, name } = command.payload;
    const input: LayersExportInput = { layers, formats: formats ?? [...EXPORT_FORMATS], name: name ?? DEFAULT_EXPORT_NAME };
    const seconds = this.config.GEOJOBS_EXPORT_DEADLINE_SECONDS;
    const deadline = AbortSignal.timeout(seconds * 1_000);
    const signal = AbortSignal.any([job.signal, deadline]);
    const total = input.layers.length * input.formats.length;
    try {
      await job.progress(0, total, `reading ${input.layers.length} layer${input.layers.length === 1 ? '' : 's'}`);
      const pipeline = layersExportPipeline({
        repository: this.repository,
        storage: this.storage,
        config: this.config,
        progress: (current, all, message) => job.progress(current, all, message),
      });
      const run = await this.runner.run(pipeline, input, { signal });
      const { bundle } = run.outputs;
      await job.progress(total, total, `${bundle.files.length} files in ${input.name}.zip`);
      return {
        file: bundle.file,
        bytes: bundle.bytes,
        name: `${input.name}.zip`,
        layers: input.layers,
        exportedAt: bundle.exportedAt,
        files: bundle.files.map(({ name: file, layer, format, features }) => ({ name: file, layer, format, features })),
        steps: run.steps,
      };
    } catch (error) {
      // cancelled: the gateway already ended the job
      if (job.signal.aborted) throw error;
      if (deadline.aborted) {
        throw new JobFailure({ type: 'export', class: 'DeadlineExceeded', message: `the export did not finish within ${seconds} s` });
      }
      const cause = error instanceof PipelineStepError ? error.cause : error;
      if (cause instanceof LayerGoneError) throw new JobFailure({ type: 'export', class: cause.name, message: cause.message });
      this.logger.warn({ err: cause, layers }, 'layers export failed');
      throw JobFailure.of('export', cause);
    }
  }
}
