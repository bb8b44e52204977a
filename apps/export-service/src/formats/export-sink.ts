import { PassThrough, type Readable } from 'node:stream';
import { ZipArchive } from 'archiver';
import type { Storage } from '#shared';

/**
 * Where writers put the files they make: a ZIP being streamed to storage (ZipSink), or a storage folder (StorageSink,
 * what a dataset's resource subtask leaves for the merge). Each call resolves once the file is wholly taken in, so
 * a writer may remove its scratch file and release its database connection then.
 */
export interface ExportSink {
  /** Adds a file whose bytes come from a stream (a CSV from COPY), without a temporary file. */
  addStream(name: string, body: Readable): Promise<void>;
  /** Adds a finished local file. */
  addFile(name: string, path: string): Promise<void>;
  /** Adds a small text (the README). */
  addText(name: string, text: string): Promise<void>;
}

export interface ZipSinkOptions {
  /** Deflate level, 0–9; zlib's default (6) when absent. */
  level?: number;
}

/**
 * A ZIP written as it is read: `output` is the archive's byte stream, to hand to `storage.write` at once. Entries are
 * deflated one after the other (in libuv's thread pool, beside whatever feeds them), and `finish` ends the archive.
 */
export class ZipSink implements ExportSink {
  private readonly archive: ZipArchive;
  private failure: Error | undefined;
  private readonly waiting = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  readonly output: Readable;

  constructor(options: ZipSinkOptions = {}) {
    this.archive = new ZipArchive({ zlib: { level: options.level ?? 6 } });
    this.archive.on('entry', (entry) => {
      this.waiting.get(entry.name)?.resolve();
      this.waiting.delete(entry.name);
    });
    this.archive.on('error', (error: Error) => this.fail(error));
    this.archive.on('warning', (error: Error) => this.fail(error));
    this.output = this.archive;
  }

  addStream(name: string, body: Readable): Promise<void> {
    return this.entry(name, () => this.archive.append(body, { name }));
  }

  addFile(name: string, path: string): Promise<void> {
    return this.entry(name, () => this.archive.file(path, { name }));
  }

  addText(name: string, text: string): Promise<void> {
    return this.entry(name, () => this.archive.append(Buffer.from(text, 'utf8'), { name }));
  }

  /** Ends the archive; resolves once its last byte is out. */
  async finish(): Promise<void> {
    if (this.failure) throw this.failure;
    await this.archive.finalize();
  }

  /** Stops the archive where it is (a failed or cancelled export): the output ends with an error. */
  abort(reason: Error): void {
    this.fail(reason);
    this.archive.abort();
  }

  private entry(name: string, add: () => void): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiting.has(name)) return Promise.reject(new Error(`two files named ${name} in one archive`));
    const done = new Promise<void>((resolve, reject) => this.waiting.set(name, { resolve, reject }));
    add();
    return done;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const { reject } of this.waiting.values()) reject(error);
    this.waiting.clear();
  }
}

/** Files put under a storage folder (`prefix` ends with `/`), one object each. */
export class StorageSink implements ExportSink {
  constructor(
    private readonly storage: Storage,
    private readonly prefix: string,
    private readonly signal?: AbortSignal,
  ) {}

  async addStream(name: string, body: Readable): Promise<void> {
    await this.storage.write(`${this.prefix}${name}`, body, { signal: this.signal });
  }

  async addFile(name: string, path: string): Promise<void> {
    await this.storage.upload(`${this.prefix}${name}`, path, { signal: this.signal });
  }

  async addText(name: string, text: string): Promise<void> {
    const body = new PassThrough();
    body.end(text);
    await this.storage.write(`${this.prefix}${name}`, body, { signal: this.signal });
  }
}
