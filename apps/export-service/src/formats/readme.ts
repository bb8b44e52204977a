import type { ExportedFile } from './exported-file.js';

const FORMAT_NAMES: Record<ExportedFile['format'], string> = {
  csv: 'CSV (UTF-8, header row, geometry as WKT in the column WKT)',
  shp: 'ESRI Shapefile (UTF-8, see the .cpg)',
  gpkg: 'GeoPackage',
  geojson: 'GeoJSON',
};

export interface ReadmeContent {
  /** The first line: what the bundle is. */
  title: string;
  exportedAt: Date;
  files: ExportedFile[];
  /** Paragraphs after the file list (a dataset export's failed resources, say). */
  more?: string[];
}

/** The README.txt of an export bundle: every file with its layer, format, feature count, fields, CRS, and notes. */
export function renderReadme(content: ReadmeContent): string {
  const lines = [content.title, '='.repeat(Math.min(content.title.length, 80)), '', `Exported at ${content.exportedAt.toISOString()} (UTC).`, ''];
  lines.push(`${content.files.length} file${content.files.length === 1 ? '' : 's'}:`, '');
  for (const file of content.files) {
    lines.push(file.name);
    if (file.companions.length > 0) lines.push(`  with:     ${file.companions.join(', ')}`);
    lines.push(`  layer:    ${file.layer}`);
    lines.push(`  format:   ${FORMAT_NAMES[file.format]}`);
    lines.push(`  features: ${file.features}`);
    lines.push(`  fields:   ${file.fields.length > 0 ? file.fields.join(', ') : '(none)'}`);
    lines.push(`  CRS:      ${file.crs}`);
    for (const note of file.notes) lines.push(`  note:     ${note}`);
    lines.push('');
  }
  for (const paragraph of content.more ?? []) lines.push(paragraph, '');
  return `${lines.join('\n').trimEnd()}\n`;
}
