import type { SourceColumn } from './table-source.js';

export interface ReadmeTable {
  name: string;
  file: string;
  rows: number;
  columns: readonly SourceColumn[];
}

export interface ReadmeInput {
  /** The input's URI, as the job was given it. */
  source: string;
  engine: string;
  sourceCharset: string;
  /** The CSVs' charset. */
  charset: string;
  tables: readonly ReadmeTable[];
  createdAt: Date;
}

/** README.txt of a converted database: where it came from, and each table's file, rows, columns and types. */
export function convertReadme(input: ReadmeInput): string {
  const lines = [
    'Database converted to CSV by geojobs',
    '',
    `Source:         ${input.source}`,
    `Engine:         ${input.engine}`,
    `Source charset: ${input.sourceCharset}`,
    `CSV charset:    ${input.charset}`,
    `Created:        ${input.createdAt.toISOString()}`,
    `Tables:         ${input.tables.length}`,
    '',
    'Each CSV (RFC 4180) has a header row; NULL is an empty field, dates are YYYY-MM-DD, timestamps ISO 8601,',
    'binary values base64 and geometries WKT. Characters the CSV charset cannot hold are written as "?".',
  ];
  for (const table of input.tables) {
    lines.push('', `${table.file}`, `  table:   ${table.name}`, `  rows:    ${table.rows}`, `  columns: ${table.columns.length}`);
    for (const column of table.columns) lines.push(`    ${column.name}  ${column.type} (${column.kind})`);
  }
  return `${lines.join('\r\n')}\r\n`;
}
