import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import iconv from 'iconv-lite';
import type { NativeCsv, SourceTable, TableSource } from '../table-source.js';
import { csvValue } from './csv-values.js';
import { WktLast } from './wkt-last.js';

/** Rows turned into CSV text and encoded at once: large enough to amortise the calls, small enough to stay flat. */
const ROWS_PER_CHUNK = 1_000;

const NEEDS_QUOTES = /[",\r\n]/;
const QUOTE = /"/g;

/**
 * One field of an RFC 4180 record: quoted when it holds a comma, a quote (doubled) or a line break, else as it is.
 * Written here rather than through csv-stringify: its per-field casting and option handling took a sixth of a
 * convert's CPU time in the profile of bench:convert, for the same bytes.
 */
export const csvField = (text: string): string => (NEEDS_QUOTES.test(text) ? `"${text.replace(QUOTE, '""')}"` : text);

/** A record: its fields quoted as needed, joined by commas, ended by CRLF. */
export const csvRecord = (fields: readonly string[]): string => `${fields.map(csvField).join(',')}\r\n`;

/** Text to bytes in the CSV's charset; UTF-8 by Node itself, the others by iconv-lite (`?` for what they cannot hold). */
const isUtf8 = (charset: string): boolean => charset.toLowerCase().replace(/[^a-z0-9]/g, '') === 'utf8';

export function encoder(charset: string): (text: string) => Buffer {
  if (isUtf8(charset)) return (text) => Buffer.from(text, 'utf8');
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
 * time encoded to the charset. `onRows` hears the running count after each chunk.
 */
export function tableCsv(source: TableSource, table: SourceTable, charset: string, signal: AbortSignal, onRows: (rows: number) => void): TableCsv {
  const encode = encoder(charset);
  const kinds = table.columns.map((column) => column.kind);
  const width = kinds.length;
  let rows = 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    yield encode(csvRecord(table.columns.map((column) => column.name)));
    let text = '';
    let pending = 0;
    for await (const values of source.rows(table, signal)) {
      let record = csvField(csvValue(values[0] ?? null, kinds[0]));
      for (let i = 1; i < width; i++) record += `,${csvField(csvValue(values[i] ?? null, kinds[i]))}`;
      text += `${record}\r\n`;
      if (++pending === ROWS_PER_CHUNK) {
        rows += pending;
        yield encode(text);
        text = '';
        pending = 0;
        onRows(rows);
      }
    }
    if (pending > 0) {
      rows += pending;
      yield encode(text);
      onRows(rows);
    }
  }
  return { stream: Readable.from(chunks(), { objectMode: false }), rows: () => rows };
}

/** Bytes read from a slice file at once. */
const SLICE_READ_BYTES = 256 * 1024;

/**
 * A table the engine writes itself (NativeCsv) as a CSV stream: the header row, then each slice's file as `slice`
 * hands it over (written, the engine's header skipped), its geometry moved last when the engine writes it first,
 * re-encoded when the charset is not UTF-8, and removed once read. `onRows` hears the running count after each slice.
 */
export function nativeTableCsv(
  table: SourceTable,
  native: NativeCsv,
  charset: string,
  slice: (index: number) => Promise<string>,
  onRows: (rows: number) => void,
): TableCsv {
  const encode = encoder(charset);
  const utf8 = isUtf8(charset);
  let rows = 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    yield encode(csvRecord(table.columns.map((column) => column.name)));
    for (const [index, sliceRows] of native.slices.entries()) {
      const path = await slice(index);
      const text = new StringDecoder('utf8');
      const wktLast = native.wktFirst ? new WktLast() : undefined;
      for await (const read of createReadStream(path, { start: native.headerBytes, highWaterMark: SLICE_READ_BYTES }) as AsyncIterable<Buffer>) {
        for (const chunk of wktLast ? wktLast.push(read) : [read]) if (chunk.length > 0) yield utf8 ? chunk : encode(text.write(chunk));
      }
      wktLast?.end();
      if (!utf8) yield encode(text.end());
      await rm(path, { force: true });
      rows += sliceRows;
      onRows(rows);
    }
  }
  return { stream: Readable.from(chunks(), { objectMode: false }), rows: () => rows };
}
