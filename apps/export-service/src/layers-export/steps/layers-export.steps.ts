import type { ExportFormat, Storage } from '#shared';
import type { ExportConfig } from '../../config/export.config.js';
import type { LayersRepository } from '../layers.repository.js';

/** The input of the layers export pipeline: the command without its job id (which must not key the cache). */
export interface LayersExportInput {
  layers: string[];
  formats: ExportFormat[];
  name: string;
}

/** What the steps work with. */
export interface LayersExportDependencies {
  repository: LayersRepository;
  storage: Storage;
  config: ExportConfig;
  /** The job's progress: `current/total` over layers × formats. */
  progress(current: number, total: number, message: string): Promise<void>;
}

/** A layer that was asked for and is gone: the job fails naming it. */
export class LayerGoneError extends Error {
  override readonly name = 'LayerGoneError';

  constructor(readonly layers: string[]) {
    super(
      `${layers.length === 1 ? 'layer' : 'layers'} ${layers.join(', ')} no longer ${layers.length === 1 ? 'exists' : 'exist'} (removed since the export was asked for)`,
    );
  }
}
