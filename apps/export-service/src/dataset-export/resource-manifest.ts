import type { ExportFormat, JobErrorV1 } from '#shared';
import type { GisSource } from './resource-kind.js';

/**
 * What an `export.resource` subtask leaves under its storage folder for the merge: its files under `files/`, and
 * `manifest.json` saying what they are — or, when it failed for good, `failed.json` saying why (the saga hands the
 * merge its error too, but only by job id: this file ties that job to its resource).
 */

/** One file a subtask made, by its path under the folder's `files/` (the path it keeps in the ZIP's resource folder). */
export interface ManifestFile {
  path: string;
  /** The size of a file copied as it is. */
  bytes?: number;
  /** The export format of a converted file; absent for a file copied as it is. */
  format?: ExportFormat;
  /** The source layer it holds (a converted file), its features, fields (as the file names them) and CRS. */
  layer?: string;
  features?: number;
  fields?: string[];
  crs?: string;
  /** Companion files of a shapefile (.shx, .dbf, .prj, .cpg), by their path. */
  companions?: string[];
  /** What the format changed or could not hold (field names mapped, values cut, a split), from the writers. */
  notes?: string[];
}

export interface ResourceManifest {
  resourceId: string;
  /** The subtask's job id. */
  jobId: string;
  handling: 'converted' | 'copied';
  source: { filename: string; bytes: number; gis?: GisSource };
  formats: ExportFormat[];
  files: ManifestFile[];
  /** Features of every layer converted (once, not per format). */
  features?: number;
}

export interface FailedResourceManifest {
  resourceId: string;
  jobId: string;
  error: JobErrorV1;
}

export const MANIFEST_FILE = 'manifest.json';
export const FAILED_FILE = 'failed.json';
export const FILES_FOLDER = 'files/';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A manifest read back from storage, checked for the fields the merge relies on; undefined for anything else. */
export function parseManifest(text: string): ResourceManifest | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (!isRecord(value) || typeof value.resourceId !== 'string' || !Array.isArray(value.files)) return undefined;
    if (value.handling !== 'converted' && value.handling !== 'copied') return undefined;
    const files = value.files as unknown[];
    if (!files.every((file) => isRecord(file) && typeof file.path === 'string')) return undefined;
    return value as unknown as ResourceManifest;
  } catch {
    return undefined;
  }
}

export function parseFailedManifest(text: string): FailedResourceManifest | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (!isRecord(value) || typeof value.resourceId !== 'string' || typeof value.jobId !== 'string' || !isRecord(value.error)) return undefined;
    return typeof value.error.message === 'string' ? (value as unknown as FailedResourceManifest) : undefined;
  } catch {
    return undefined;
  }
}
