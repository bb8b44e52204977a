import type { ExportFormat } from '#shared';
import type { ExportedResource, FailedResource } from './dataset-outcome.js';

export const FORMAT_LABELS: Record<ExportFormat, string> = {
  csv: 'CSV (geometry as WKT)',
  shp: 'Shapefile',
  gpkg: 'GeoPackage',
  geojson: 'GeoJSON',
};

const SOURCE_LABELS: Record<string, string> = {
  geojson: 'GeoJSON',
  shapefile: 'zipped Shapefile',
  geopackage: 'GeoPackage',
  kml: 'KML',
  kmz: 'KMZ',
};

export interface DatasetReadme {
  datasetId: string;
  name: string;
  title?: string;
  jobId: string;
  exportedAt: Date;
  formats: readonly ExportFormat[];
  /** The exported resources, each with its folder in the ZIP. */
  exported: readonly (ExportedResource & { zipFolder: string })[];
  failed: readonly FailedResource[];
}

const count = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/**
 * README.txt of a dataset bundle: the dataset, then every resource in the portal's order — its folder, how it was
 * handled and each file (format and features, or bytes for a copy), what a format could not hold — and every resource
 * that is not in the ZIP, with why. Plain text, one file a user reads first.
 */
export function datasetReadme(readme: DatasetReadme): string {
  const { exported, failed } = readme;
  const total = exported.length + failed.length;
  const lines = [
    `Dataset: ${readme.title && readme.title !== readme.name ? `${readme.title} (${readme.name})` : readme.name}`,
    `Portal dataset: ${readme.datasetId}`,
    `Exported: ${readme.exportedAt.toISOString()} by geojobs (job ${readme.jobId})`,
    `GIS resources converted to: ${readme.formats.map((format) => FORMAT_LABELS[format]).join(', ')}; other resources copied as they are.`,
    '',
    `Resources in this archive: ${exported.length} of ${total}`,
  ];
  for (const { resource, manifest, zipFolder } of exported) {
    const source = manifest.source.gis ? SOURCE_LABELS[manifest.source.gis] : resource.format || 'file';
    const handled =
      manifest.handling === 'converted'
        ? `${source}, converted${manifest.features !== undefined ? ` (${count(manifest.features, 'feature')})` : ''}`
        : `${source}, copied as it is`;
    lines.push(
      '',
      `${zipFolder}/  ${resource.name || resource.id} (resource ${resource.id}): ${handled}`,
      `  source: ${manifest.source.filename}, ${count(manifest.source.bytes, 'byte')}`,
    );
    for (const file of manifest.files) {
      const what = file.format
        ? `${FORMAT_LABELS[file.format]}${file.layer ? `, layer ${file.layer}` : ''}${file.features !== undefined ? `, ${count(file.features, 'feature')}` : ''}`
        : count(file.bytes ?? 0, 'byte');
      lines.push(`  ${zipFolder}/${file.path}  ${what}`);
      if (file.companions && file.companions.length > 0) lines.push(`    with: ${file.companions.join(', ')}`);
      if (file.fields) lines.push(`    fields: ${file.fields.length > 0 ? file.fields.join(', ') : '(none)'}`);
      if (file.crs) lines.push(`    CRS: ${file.crs}`);
      for (const note of file.notes ?? []) lines.push(`    note: ${note}`);
    }
  }
  if (failed.length > 0) {
    lines.push('', `Resources NOT in this archive: ${failed.length} of ${total}`);
    for (const resource of failed) {
      lines.push('', `${resource.name || resource.id} (resource ${resource.id})`, `  url: ${resource.url || '(none)'}`, `  why: ${resource.error}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
