import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { checkArchiveEntry, checkArchiveSize, type ArchiveLimits } from './archive-entry.js';

/** Why an archive was refused: it cannot be read, it is (or would expand) too large, or an entry is unsafe. */
export type ArchiveProblem = 'corrupt' | 'too-large' | 'unsafe-entry';

/** A zip refused by safeUnzip; each service turns it into its own job error, keeping the message. */
export class ArchiveRefusedError extends Error {
  override readonly name = 'ArchiveRefusedError';

  constructor(
    readonly problem: ArchiveProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const entryName = (entry: Entry): string => {
  const raw = entry.fileName as unknown;
  if (!Buffer.isBuffer(raw)) return String(raw);
  return raw.toString(entry.generalPurposeBitFlag & 0x800 ? 'utf8' : 'latin1');
};

function readEntries(zip: ZipFile, maxEntries: number): Promise<Entry[]> {
  return new Promise((resolveEntries, reject) => {
    const entries: Entry[] = [];
    zip.on('entry', (entry: Entry) => {
      entries.push(entry);
      if (entries.length > maxEntries) return reject(new ArchiveRefusedError('too-large', `the archive holds more than ${maxEntries} entries`));
      zip.readEntry();
    });
    zip.once('end', () => resolveEntries(entries));
    zip.once('error', reject);
    zip.readEntry();
  });
}

async function openArchive(archive: string): Promise<ZipFile> {
  try {
    return await yauzl.openPromise(archive, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true });
  } catch (error) {
    throw new ArchiveRefusedError('corrupt', `the archive is corrupt or truncated: ${(error as Error).message}`, { cause: error });
  }
}

/** The entries of an open archive, refused (ArchiveRefusedError) over the entry count, expanded size or ratio. */
async function checkedEntries(zip: ZipFile, limits: ArchiveLimits): Promise<Entry[]> {
  const entries = await readEntries(zip, limits.maxEntries);
  const declared = { entries: entries.length, unpackedBytes: entries.reduce((sum, entry) => sum + entry.uncompressedSize, 0), archiveBytes: zip.fileSize };
  const problem = checkArchiveSize(declared, limits);
  if (problem) throw new ArchiveRefusedError('too-large', problem);
  return entries;
}

const asRefusal = (error: unknown): ArchiveRefusedError =>
  error instanceof ArchiveRefusedError
    ? error
    : new ArchiveRefusedError('corrupt', `the archive is corrupt or truncated: ${(error as Error).message}`, { cause: error });

/**
 * The entry names of a zip (or kmz) that a reader other than safeUnzip will open in place (GDAL's /vsizip), read from
 * its central directory without extracting anything, under the same rules as safeUnzip: over the entry count, expanded
 * size or ratio, or with an entry that is absolute, climbs out with `..` or is a link, it is refused with an
 * ArchiveRefusedError, and so is one whose directory cannot be read.
 */
export async function listArchive(archive: string, limits: ArchiveLimits): Promise<string[]> {
  const zip = await openArchive(archive);
  try {
    const entries = await checkedEntries(zip, limits);
    return entries.map((entry) => {
      // decoded as GDAL's /vsizip decodes names (CP437 without the UTF-8 flag, or the Info-ZIP Unicode path), so that a
      // folder named here is the folder GDAL opens
      const name = Buffer.isBuffer(entry.fileName)
        ? yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileName, entry.extraFields, false)
        : entryName(entry);
      const verdict = checkArchiveEntry(name, entry.externalFileAttributes);
      if (!verdict.ok) throw new ArchiveRefusedError('unsafe-entry', `refusing the archive: ${verdict.reason}`);
      return name;
    });
  } catch (error) {
    throw asRefusal(error);
  } finally {
    zip.close();
  }
}

/**
 * Expands a zip (or kmz) into `folder`, refusing entries that would land outside it (absolute paths, `..`, links) and
 * archives over the entry count, expanded size or ratio — checked on what the archive declares, then again on the
 * bytes written. Every refusal is an ArchiveRefusedError; cancelling rejects with the signal's reason.
 */
export async function safeUnzip(archive: string, folder: string, limits: ArchiveLimits, signal?: AbortSignal): Promise<void> {
  const zip = await openArchive(archive);
  try {
    const entries = await checkedEntries(zip, limits);
    const root = resolve(folder);
    let written = 0;
    for (const entry of entries) {
      signal?.throwIfAborted();
      const name = entryName(entry);
      const verdict = checkArchiveEntry(name, entry.externalFileAttributes);
      if (!verdict.ok) throw new ArchiveRefusedError('unsafe-entry', `refusing the archive: ${verdict.reason}`);
      const target = resolve(root, verdict.path);
      if (target !== root && !target.startsWith(root + sep))
        throw new ArchiveRefusedError('unsafe-entry', `refusing the archive: "${verdict.path}" escapes the folder`);
      if (name.endsWith('/')) {
        await mkdir(target, { recursive: true });
        continue;
      }
      await mkdir(dirname(target), { recursive: true });
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          written += chunk.length;
          if (written > limits.maxUnpackedBytes)
            return callback(new ArchiveRefusedError('too-large', `the archive expands to more than ${limits.maxUnpackedBytes} bytes`));
          callback(null, chunk);
        },
      });
      await pipeline(await zip.openReadStreamPromise(entry), counter, createWriteStream(target, { flags: 'wx' }), { signal });
    }
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw asRefusal(error);
  } finally {
    zip.close();
  }
}
