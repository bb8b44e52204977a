import type { ProcessorManifest } from '#shared';
import type { Boundary } from '../boundaries/boundaries.repository.js';

/** A file a processor wrote into its scratch folder, as datapackage.json will describe it. */
export interface ProcessorFile {
  /** The file's name in the scratch folder, and under `packages/<boundary>/<processor>/<version>/` in storage. */
  name: string;
  /** Frictionless `format` (`gpkg`, `csv`, `geojson`, `tif`). */
  format: string;
  mediatype: string;
}

export interface ProcessorOutput {
  files: ProcessorFile[];
  /** Where the data came from (the layer, the storage key), for the provenance log and `sources`. */
  source: string;
}

/** What a processor gets besides the boundary: where to write, where progress goes, and the job's signal. */
export interface ProcessorRun {
  boundary: Boundary;
  /** An empty folder of its own, removed after the run whatever happens. */
  scratch: string;
  /** Percent complete (0–100) and the current step, shown in the job status. */
  progress: (percent: number, step: string) => Promise<void>;
  signal: AbortSignal;
}

/**
 * A processor: its metadata (the shared manifest, which the gateway lists) and the code that writes its outputs for a
 * boundary. A failure of the work (a missing source, a bad file) is thrown as ProcessorError with a readable message.
 */
export interface PackageProcessor {
  readonly manifest: ProcessorManifest;
  process(run: ProcessorRun): Promise<ProcessorOutput>;
}

/** The processor could not make its output for a reason its user can act on: the job part fails with this message. */
export class ProcessorError extends Error {
  override readonly name = 'ProcessorError';
}

export const PACKAGE_PROCESSORS = Symbol('PACKAGE_PROCESSORS');
