import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import { PROCESSORS, processorKey, type ProcessorLicense } from '#shared';
import type { OutputRow } from '../outputs/outputs.repository.js';
import profile from './profiles/datapackage-2.0.json' with { type: 'json' };

/** The profile a datapackage.json names and is validated against (kept in ./profiles). */
export const DATAPACKAGE_PROFILE = 'https://datapackage.org/profiles/2.0/datapackage.json';

export interface DataResource {
  name: string;
  /** Relative to datapackage.json (`packages/<boundary>/`): `<processor>/<version>/<file>`. */
  path: string;
  format: string;
  mediatype: string;
  bytes: number;
  hash: string;
  licenses: ProcessorLicense[];
  sources: { title: string; path?: string }[];
}

export interface DataPackage {
  $schema: string;
  name: string;
  title: string;
  created: string;
  licenses: ProcessorLicense[];
  resources: DataResource[];
}

/** One line of the provenance log: which processor version made which file, when, from what. */
export interface ProvenanceEntry {
  file: string;
  processor: string;
  version: string;
  jobId: string;
  madeAt: string;
  source: string | null;
  bytes: number;
  hash: string;
}

const manifestOf = (output: OutputRow) => PROCESSORS.find((processor) => processor.name === output.processor && processor.version === output.version);

/** A resource name the profile and its readers accept: lower case, digits, `-._`. */
const resourceName = (output: OutputRow, file: string): string => `${output.processor}-${output.version}-${file}`.toLowerCase().replace(/[^a-z0-9._-]/g, '-');

/**
 * The boundary's datapackage.json from its finished outputs: one resource per file, with its size, its
 * `sha256:<hex>` hash, its processor's license and source. Outputs of a processor version no longer in the manifest
 * are left out (their metadata is gone). A pure function: the same outputs give the same package but for `created`.
 */
export function buildDataPackage(boundary: { name: string; nameLong: string }, outputs: OutputRow[], created: Date): DataPackage {
  const resources: DataResource[] = [];
  const licenses = new Map<string, ProcessorLicense>();
  for (const output of outputs) {
    const manifest = manifestOf(output);
    if (!manifest) continue;
    licenses.set(manifest.license.name, manifest.license);
    for (const file of output.files) {
      resources.push({
        name: resourceName(output, file.name),
        path: `${output.processor}/${output.version}/${file.name}`,
        format: file.format,
        mediatype: file.mediatype,
        bytes: file.bytes,
        hash: file.hash,
        licenses: [manifest.license],
        sources: [{ title: output.source ?? manifest.dataset, ...(/^https?:\/\//.test(manifest.originUrl) ? { path: manifest.originUrl } : {}) }],
      });
    }
  }
  return {
    $schema: DATAPACKAGE_PROFILE,
    name: boundary.name.toLowerCase(),
    title: boundary.nameLong,
    created: created.toISOString(),
    licenses: [...licenses.values()],
    resources,
  };
}

/** The provenance log of the same outputs. */
export function provenanceLog(outputs: OutputRow[]): ProvenanceEntry[] {
  return outputs.flatMap((output) =>
    output.files.map((file) => ({
      file: `${output.processor}/${output.version}/${file.name}`,
      processor: processorKey({ name: output.processor, version: output.version }),
      version: output.version,
      jobId: output.job_id,
      madeAt: (output.finished_at ?? output.started_at).toISOString(),
      source: output.source,
      bytes: file.bytes,
      hash: file.hash,
    })),
  );
}

// the profile carries UI hints (propertyOrder, options) that strict mode would refuse, and a `textarea` format that
// only tells an editor how to show a field; date-time, email and uri are checked (ajv-formats)
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats.default(ajv, ['date-time', 'email', 'uri']);
ajv.addFormat('textarea', true);
const validate = ajv.compile(profile);

/** The profile's complaints about a descriptor, one readable line each; none when it is valid. */
export function profileErrors(descriptor: unknown): string[] {
  if (validate(descriptor)) return [];
  return (validate.errors ?? []).map((error: ErrorObject) => `${error.instancePath || '/'} ${error.message ?? 'is invalid'}`);
}
