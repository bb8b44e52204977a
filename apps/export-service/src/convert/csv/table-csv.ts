import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import iconv from 'iconv-lite';
import type { SourceTable, TableSource } from '../table-source.js';
import { csvValue } from './csv-values.js';

/** Rows turned into CSV text and encoded at once: large enough to amortise the calls, small enough to stay flat. */
const ROWS_PER_CHUNK = 1_000;

/** RFC 4180: CRLF between records, and fields holding a bare CR or LF quoted too (csv-stringify quotes only CRLF). */
const CSV_OPTIONS = { record_delimiter: 'windows', quoted_match: /[\r\n]/ } as const;

/** Text to bytes in the CSV's charset; UTF-8 by Node itself, the others by iconv-lite (`?` for what they cannot hold). */
export function encoder(charset: string): (text: string) => Buffer {
  const name = charset.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (name === 'utf8') return (text) => Buffer.from(text, 'utf8');
  return (text) => iconv.encode(text, charset);
}

export interface TableCsv {
  /** The CSV's bytes: header row, then every row, streamed from the source as it is read. */
  stream: Readable;
  /** Rows written so far. */
  rows(): number;
}

/**
 * One table as a CSV stream: the header row, then the rows as the source streams them, a chunk of ROWS_PER_CHUNK at a
 * time through csv-stringify and the charset's encoder. `onRows` hears the running count after each chunk.
 */
export function tableCsv(source: TableSource, table: SourceTable, charset: string, signal: AbortSignal, onRows: (rows: number) => void): TableCsv {
  const encode = encoder(charset);
  const kinds = table.columns.map((column) => column.kind);
  const width = kinds.length;
  let rows = 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    yield encode(stringify([table.columns.map((column) => column.name)], CSV_OPTIONS));
    let batch: string[][] = [];
    for await (const values of source.rows(table, signal)) {
      const fields = new Array<string>(width);
      for (let i = 0; i < width; i++) fields[i] = csvValue(values[i] ?? null, kinds[i]);
      batch.push(fields);
      if (batch.length === ROWS_PER_CHUNK) {
        rows += batch.length;
        yield encode(stringify(batch, CSV_OPTIONS));
        batch = [];
        onRows(rows);
      }
    }
    if (batch.length > 0) {
      rows += batch.length;
      yield encode(stringify(batch, CSV_OPTIONS));
      onRows(rows);
    }
  }
  return { stream: Readable.from(chunks(), { objectMode: false }), rows: () => rows };
}
