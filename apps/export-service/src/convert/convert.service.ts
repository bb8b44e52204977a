import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { JobFailure, LOGGER, STORAGE, storageUri, type Envelope, type ExportConvertV1, type JobContext, type JobOutcome, type Storage } from '#shared';
import { EXPORT_CONFIG, type ExportConfig } from '../config/export.config.js';
import { reclaimingBuffers } from './buffer-reclaim.js';
import { writeBundle } from './convert-bundle.js';
import { inputBaseName, inputFileName, pickOpener, readHead } from './convert-input.js';
import { RemoteFileError, RemoteFiles } from './remote/remote-files.service.js';
import { selectTables } from './table-selection.js';
import { ConvertInputError, type SourceTable, type TableSourceOpener } from './table-source.js';

/** Every opener `export.convert` picks from by the input's first bytes (GDAL's, Firebird's). */
export const TABLE_SOURCE_OPENERS = Symbol('TABLE_SOURCE_OPENERS');

/** Progress is published at most this often while a table's rows stream (and at every table's start). */
const PROGRESS_EVERY_MS = 1_000;

/** Where the ZIP goes: geojobs' storage, or a remote URI (a bucket, beside the input or named by `output`). */
type Target = { kind: 'storage'; key: string } | { kind: 'remote'; uri: string };

const CHARSET_DEFAULT = 'utf-8';

/** `export.convert`: a database file to a ZIP of CSVs, one per table, with a README. */
@Injectable()
export class ConvertService {
  constructor(
    @Inject(EXPORT_CONFIG) private readonly config: ExportConfig,
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(RemoteFiles) private readonly remote: RemoteFiles,
    @Inject(TABLE_SOURCE_OPENERS) private readonly openers: TableSourceOpener[],
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Fetches the input into the job's scratch folder, opens it with the opener its first bytes call for, and streams
   * the chosen tables into the ZIP. A bad input fails the job with a readable message; a cancel (or the deadline)
   * stops it within a slice of rows; either way the scratch folder and any partial ZIP are removed.
   */
  async run({ payload: input }: Envelope<ExportConvertV1>, job: JobContext): Promise<JobOutcome> {
    const seconds = this.config.GEOJOBS_EXPORT_DEADLINE_SECONDS;
    const deadline = AbortSignal.timeout(seconds * 1_000);
    const signal = AbortSignal.any([job.signal, deadline]);
    try {
      const root = this.config.GEOJOBS_EXPORT_SCRATCH_DIR ?? tmpdir();
      await mkdir(root, { recursive: true });
      const scratch = await mkdtemp(join(root, 'geojobs-convert-'));
      try {
        return await reclaimingBuffers(() => this.convert(input, job, signal, scratch));
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    } catch (error) {
      if (job.signal.aborted) throw job.signal.reason;
      if (deadline.aborted) {
        throw new JobFailure({
          type: 'export',
          class: 'DeadlineExceeded',
          message: `the export took longer than ${seconds} s (GEOJOBS_EXPORT_DEADLINE_SECONDS)`,
        });
      }
      if (error instanceof ConvertInputError || error instanceof RemoteFileError) throw JobFailure.of('export', error);
      throw error;
    }
  }

  private async convert(input: ExportConvertV1, job: JobContext, signal: AbortSignal, scratch: string): Promise<JobOutcome> {
    const fileName = inputFileName(input.uri);
    const path = join(scratch, `input-${fileName}`);
    await job.progress(0, 1, `downloading ${fileName}`);
    await this.remote.download(input.uri, path, { signal, maxBytes: this.config.GEOJOBS_EXPORT_MAX_DOWNLOAD_BYTES });
    const opener = pickOpener(this.openers, await readHead(path), fileName);
    const source = await opener.open(path, scratch, signal);
    try {
      const tables = selectTables(await source.tables(), input.tables);
      const charset = input.charset ?? CHARSET_DEFAULT;
      const target = await this.target(input, signal);
      const output = target.kind === 'storage' ? storageUri(target.key) : target.uri;
      const sink =
        target.kind === 'storage'
          ? (zip: Readable) => this.storage.write(target.key, zip, { signal, contentType: 'application/zip' })
          : (zip: Readable) => this.remote.upload(target.uri, zip, { signal, contentType: 'application/zip' });
      const progress = this.progress(job, input.jobId, tables.length);
      try {
        const bundle = await writeBundle({ source, tables, charset, sourceUri: input.uri, signal, scratchDir: scratch, onProgress: progress, sink });
        this.logger.info({ jobId: input.jobId, output, tables: tables.length, bytes: bundle.bytes }, 'database converted');
        return {
          ...(target.kind === 'storage' ? { file: target.key } : {}),
          output,
          tables: bundle.tables,
          bytes: bundle.bytes,
          engine: source.engine,
          charset,
          sourceCharset: source.charset,
        };
      } catch (error) {
        // a write stopped half-way may have left a partial object in storage (a bucket's multipart upload is aborted by RemoteFiles)
        if (target.kind === 'storage') await this.storage.deletePrefix(`convert/${input.jobId}/`).catch(() => undefined);
        throw error;
      }
    } finally {
      await source.close();
    }
  }

  /** `output` when given; beside the input when that is in a bucket (never over an existing object); else storage. */
  private async target(input: ExportConvertV1, signal: AbortSignal): Promise<Target> {
    if (input.output) return { kind: 'remote', uri: input.output };
    const beside = await this.remote.vacantBeside(input.uri, signal);
    if (beside) return { kind: 'remote', uri: beside };
    return { kind: 'storage', key: `convert/${input.jobId}/${inputBaseName(input.uri)}.zip` };
  }

  /** `current/total` by table, the message naming the table and its rows done; published at most every PROGRESS_EVERY_MS while rows stream. */
  private progress(job: JobContext, jobId: string, total: number): (index: number, table: SourceTable, rows: number) => void {
    let last = 0;
    return (index, table, rows) => {
      const now = Date.now();
      if (rows > 0 && now - last < PROGRESS_EVERY_MS) return;
      last = now;
      const message = `table ${index + 1} of ${total}, ${JSON.stringify(table.name)}: ${rows.toLocaleString('en-US')} rows`;
      job.progress(index, total, message).catch((error: unknown) => this.logger.warn({ err: error, jobId }, 'progress not published'));
    };
  }
}
