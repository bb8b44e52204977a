import { once } from 'node:events';
import { join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { ZipArchive } from 'archiver';
import { csvFileNames } from './csv/csv-file-names.js';
import { nativeTableCsv, tableCsv } from './csv/table-csv.js';
import { convertReadme } from './readme.js';
import type { NativeCsv, SourceTable, TableSource } from './table-source.js';

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
  /** The job's scratch folder, for the slices of tables the engine writes itself. */
  scratchDir: string;
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

/**
 * Slices written ahead of the one being zipped: two translations run while a slice is read into the ZIP (the
 * machine's two cores; deflate and the reads take libuv's other threads), and their files wait in the scratch folder.
 */
const SLICES_AHEAD = 2;

/**
 * The slices of every table the engine writes itself, as one queue in table order: taking a slice starts it and the
 * next SLICES_AHEAD, so the engine works ahead of the ZIP, across tables too (each table planned when the queue first
 * reaches it). A slice cannot be stopped once started (GDAL's translation has no cancel), so a cancel waits for the
 * running ones: `settle` before the scratch folder goes.
 */
class NativeSlices {
  private readonly plans: Promise<NativeCsv | undefined>[] = [];
  private readonly written = new Map<string, Promise<void>>();

  constructor(
    private readonly source: TableSource,
    private readonly tables: readonly SourceTable[],
    private readonly folder: string,
    private readonly signal: AbortSignal,
  ) {}

  /** How the engine writes a table itself, or undefined when it goes through the rows path. */
  native(table: number): Promise<NativeCsv | undefined> {
    for (let next = this.plans.length; next <= table; next++) {
      const plan = this.source.nativeCsv ? this.source.nativeCsv(this.tables[next]) : Promise.resolve(undefined);
      plan.catch(() => undefined);
      this.plans.push(plan);
    }
    return this.plans[table];
  }

  /** The file of a table's slice, once written. */
  async take(table: number, slice: number): Promise<string> {
    this.signal.throwIfAborted();
    const path = await this.start(table, slice);
    // the next slices, into the next tables while they too are written natively
    let ahead = 0;
    for (let next = table; next < this.tables.length && ahead < SLICES_AHEAD; next++) {
      const native = await this.native(next);
      if (!native) break;
      for (let later = next === table ? slice + 1 : 0; later < native.slices.length && ahead < SLICES_AHEAD; later++, ahead++) void this.start(next, later);
    }
    await this.written.get(path);
    this.signal.throwIfAborted();
    return path;
  }

  /** Resolves once no slice is being written. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.written.values()]);
  }

  private async start(table: number, slice: number): Promise<string> {
    const path = join(this.folder, `native-${table}-${slice}.csv`);
    if (!this.written.has(path)) {
      const native = (await this.native(table))!;
      if (this.written.has(path)) return path;
      const written = native.write(slice, path);
      written.catch(() => undefined);
      this.written.set(path, written);
    }
    return path;
  }
}

/** Rejects when the stream fails: archiver does not always pass on the error of an entry's source. */
const failureOf = (stream: Readable): Promise<never> =>
  new Promise((_, reject) => {
    stream.once('error', reject);
  });

/**
 * The ZIP of a database: one CSV per table, then README.txt, streamed through archiver into `sink` as the rows are
 * read — one table at a time, nothing built whole in memory or on disk (a table the engine writes itself passes
 * through the scratch folder a few slices at a time). Rejects (the sink's write stopped by the
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
  const slices = new NativeSlices(source, tables, options.scratchDir, signal);
  try {
    for (const [index, table] of tables.entries()) {
      signal.throwIfAborted();
      options.onProgress(index, table, 0);
      const onRows = (rows: number) => options.onProgress(index, table, rows);
      const native = await slices.native(index);
      const csv = native
        ? nativeTableCsv(table, native, charset, (slice) => slices.take(index, slice), onRows)
        : tableCsv(source, table, charset, signal, onRows);
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
    await slices.settle();
    throw signal.aborted ? signal.reason : error;
  }
}
