import type { CkanResourceV1, JobErrorV1, SagaSummaryV1 } from '#shared';
import type { FailedResourceManifest, ResourceManifest } from './resource-manifest.js';

/** What the merge found of one resource under its storage folder. */
export interface ResourceReport {
  resource: CkanResourceV1;
  /** Its storage folder's name (under the merge's prefix). */
  folder: string;
  manifest?: ResourceManifest;
  failed?: FailedResourceManifest;
}

export interface ExportedResource {
  resource: CkanResourceV1;
  folder: string;
  manifest: ResourceManifest;
}

/** A resource that did not make it into the ZIP, and why, as the README and the job's result name it. */
export interface FailedResource {
  id: string;
  name: string;
  url: string;
  error: string;
}

/**
 * What the merge does:
 * - `cut`: the saga was cut short (cancelled, or past its deadline): the job has already ended; only clean up;
 * - `merged-before`: nothing left by any subtask, and the ZIP is there: a merge delivered again after it had finished
 *   (the working files are removed last); it must not rebuild from nothing, nor remove the ZIP;
 * - `failed`: no resource made it: the job fails with every resource's error;
 * - `bundle`: build the ZIP of the resources that made it, naming the others.
 */
export type DatasetOutcome =
  | { kind: 'cut'; reason: JobErrorV1 }
  | { kind: 'merged-before' }
  | { kind: 'failed'; error: JobErrorV1; failed: FailedResource[] }
  | { kind: 'bundle'; exported: ExportedResource[]; failed: FailedResource[] };

/**
 * The merge's decision, from what each resource's subtask left and the saga's summary. A resource is exported when its
 * subtask left a manifest. One that left `failed.json` failed for the reason it gives. One that left nothing (its
 * subtask was cancelled, or crashed and was given up) is named with the errors of the subtasks no `failed.json`
 * accounts for — the saga knows those by job id only. A saga error of the parent itself means the saga was cut
 * short: the coordinator ran this merge only so that it cleans up. `bundleExists`: the ZIP is in storage already.
 */
export function decideOutcome(reports: readonly ResourceReport[], saga: Pick<SagaSummaryV1, 'parentId' | 'errors'>, bundleExists = false): DatasetOutcome {
  const errors = saga.errors ?? [];
  const cut = errors.find((error) => error.jobId === saga.parentId);
  if (cut) return { kind: 'cut', reason: { type: cut.type, class: cut.class, message: cut.message } };
  if (bundleExists && reports.every((report) => !report.manifest && !report.failed)) return { kind: 'merged-before' };

  const accounted = new Set(reports.flatMap((report) => (report.failed ? [report.failed.jobId] : [])));
  const unaccounted = [...new Set(errors.filter((error) => !accounted.has(error.jobId)).map((error) => error.message))];
  const silent = unaccounted.length > 0 ? `its subtask ended without a report (${unaccounted.join('; ')})` : 'its subtask ended without a report';

  const exported: ExportedResource[] = [];
  const failed: FailedResource[] = [];
  for (const { resource, folder, manifest, failed: failure } of reports) {
    if (manifest) exported.push({ resource, folder, manifest });
    else failed.push({ id: resource.id, name: resource.name, url: resource.url, error: failure?.error.message ?? silent });
  }
  if (exported.length === 0) return { kind: 'failed', error: noResourceExported(failed), failed };
  return { kind: 'bundle', exported, failed };
}

/** The job's error when every resource failed: each one's, so the user needs nothing else to see why. */
export function noResourceExported(failed: readonly FailedResource[]): JobErrorV1 {
  const reasons = failed.map((resource) => `${resource.name || resource.id}: ${resource.error}`).join('; ');
  const count = failed.length === 1 ? "the dataset's resource" : `any of the dataset's ${failed.length} resources`;
  return { type: 'export', class: 'NoResourceExported', message: `could not export ${count}: ${reasons || 'the dataset has none'}` };
}
