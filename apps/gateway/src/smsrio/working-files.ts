/**
 * SMS-Rio's `/list/` and `/clear/` worked on the exporter's volume (`/data`: the downloaded .GDB, the CSVs, the ZIP).
 * Geojobs' counterpart is the part of its storage that convert jobs own: every `export.convert` job keeps its files
 * under `convert/<job id>/` (the ZIP of an input that is not in a bucket, anything else it stages). A job's scratch
 * folder lives on the export-service machine that runs it and is removed when the job ends, so it is not listed.
 */
export const WORKING_PREFIX = 'convert/';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The job a working file belongs to (`convert/<job id>/…`); undefined for a file in no job's folder. */
export function jobIdOf(key: string): string | undefined {
  const [, id, ...rest] = key.split('/');
  return rest.length > 0 && UUID.test(id) ? id.toLowerCase() : undefined;
}

/** `/list/`'s answer: each folder (as `os.walk` gave roots) with its files' names and sizes, in key order. */
export function groupByFolder(files: { key: string; size: number }[], format: (bytes: number) => string): Record<string, [string, string][]> {
  const folders: Record<string, [string, string][]> = {};
  for (const { key, size } of [...files].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    const slash = key.lastIndexOf('/');
    (folders[key.slice(0, slash)] ??= []).push([key.slice(slash + 1), format(size)]);
  }
  return folders;
}
