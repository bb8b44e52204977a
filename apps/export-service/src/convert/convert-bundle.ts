import { once } from 'node:events';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { ZipArchive } from 'archiver';
import { csvFileNames } from './csv/csv-file-names.js';
import { tableCsv } from './csv/table-csv.js';
import { convertReadme } from './readme.js';
import type { SourceTable, TableSource } from './table-source.js';

/** A table as the job's result reports it. */
export interface ConvertedTable {
  name: string;
  file: string;
  rows: number;
  columns: number;
}

export interface BundleOptions {
  source: TableSource;
  tables: readonly SourceTable[];
  /** The CSVs' charset, as iconv-lite names it. */
  charset: string;
  /** The input's URI, for the README. */
  sourceUri: string;
  signal: AbortSignal;
  /** A table starts (`rows` 0) or has written `rows` more rows; `index` counts from 0. */
  onProgress: (index: number, table: SourceTable, rows: number) => void;
  /** Where the ZIP's bytes go (storage, a bucket): resolves once they are all stored. */
  sink: (zip: Readable) => Promise<unknown>;
}

/** Passes bytes on, counting them. */
class ByteCounter extends Transform {
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    callback(null, chunk);
  }
}

/** Rejects when the stream fails: archiver does not always pass on the error of an entry's source. */
const failureOf = (stream: Readable): Promise<never> =>
  new Promise((_, reject) => {
    stream.once('error', reject);
  });

/**
 * The ZIP of a database: one CSV per table, then README.txt, streamed through archiver into `sink` as the rows are
 * read — one table at a time, nothing built whole in memory or on disk. Rejects (the sink's write stopped by the
 * error) when a table, the archive or the sink fails, or on the signal.
 */
export async function writeBundle(options: BundleOptions): Promise<{ tables: ConvertedTable[]; bytes: number }> {
  const { source, tables, charset, signal } = options;
  const files = csvFileNames(tables.map((table) => table.name));
  const archive = new ZipArchive({ zlib: { level: 6 } });
  const counter = new ByteCounter();
  archive.pipe(counter);
  const archiveFailed = new Promise<never>((_, reject) => archive.once('error', reject));
  const sinking = options.sink(counter);
  const stopped = Promise.race([archiveFailed, sinking.then(() => new Promise<never>(() => undefined))]);
  stopped.catch(() => undefined);
  const converted: ConvertedTable[] = [];
  try {
    for (const [index, table] of tables.entries()) {
      signal.throwIfAborted();
      options.onProgress(index, table, 0);
      const csv = tableCsv(source, table, charset, signal, (rows) => options.onProgress(index, table, rows));
      const written = once(archive, 'entry');
      archive.append(csv.stream, { name: files[index] });
      await Promise.race([written, failureOf(csv.stream), stopped]);
      converted.push({ name: table.name, file: files[index], rows: csv.rows(), columns: table.columns.length });
    }
    const readme = convertReadme({
      source: options.sourceUri,
      engine: source.engine,
      sourceCharset: source.charset,
      charset,
      createdAt: new Date(),
      tables: converted.map((table, index) => ({ ...table, columns: tables[index].columns })),
    });
    archive.append(readme, { name: 'README.txt' });
    await Promise.race([archive.finalize(), stopped]);
    await sinking;
    return { tables: converted, bytes: counter.bytes };
  } catch (error) {
    archive.abort();
    counter.destroy(error instanceof Error ? error : new Error(String(error)));
    await sinking.catch(() => undefined);
    throw signal.aborted ? signal.reason : error;
  }
}
