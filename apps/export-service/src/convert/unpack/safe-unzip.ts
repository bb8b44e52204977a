import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { ConvertInputError } from '../table-source.js';
import { checkArchiveEntry, checkArchiveSize, type ArchiveLimits } from './archive-checks.js';

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
      if (entries.length > maxEntries) return reject(new ConvertInputError(`the zip holds more than ${maxEntries} entries`));
      zip.readEntry();
    });
    zip.once('end', () => resolveEntries(entries));
    zip.once('error', reject);
    zip.readEntry();
  });
}

/**
 * Expands a zip into `folder` with geo-service's defences: entries that would land outside it (absolute, `..`,
 * links) refuse the archive, and so do archives over the entry count, expanded size or ratio — checked on what the
 * archive declares, then on the bytes written. Every refusal is a `ConvertInputError`.
 */
export async function safeUnzip(archive: string, folder: string, limits: ArchiveLimits, signal?: AbortSignal): Promise<void> {
  let zip: ZipFile;
  try {
    zip = await yauzl.openPromise(archive, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true });
  } catch (error) {
    throw new ConvertInputError(`the zip is corrupt or truncated: ${(error as Error).message}`);
  }
  try {
    const entries = await readEntries(zip, limits.maxEntries);
    const declared = { entries: entries.length, unpackedBytes: entries.reduce((sum, entry) => sum + entry.uncompressedSize, 0), archiveBytes: zip.fileSize };
    const problem = checkArchiveSize(declared, limits);
    if (problem) throw new ConvertInputError(`refusing the zip: ${problem}`);
    const root = resolve(folder);
    let written = 0;
    for (const entry of entries) {
      signal?.throwIfAborted();
      const name = entryName(entry);
      const verdict = checkArchiveEntry(name, entry.externalFileAttributes);
      if (!verdict.ok) throw new ConvertInputError(`refusing the zip: ${verdict.reason}`);
      const target = resolve(root, verdict.path);
      if (target !== root && !target.startsWith(root + sep)) throw new ConvertInputError(`refusing the zip: "${verdict.path}" escapes the folder`);
      if (name.endsWith('/')) {
        await mkdir(target, { recursive: true });
        continue;
      }
      await mkdir(dirname(target), { recursive: true });
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          written += chunk.length;
          if (written > limits.maxUnpackedBytes)
            return callback(new ConvertInputError(`refusing the zip: it expands to more than ${limits.maxUnpackedBytes} bytes`));
          callback(null, chunk);
        },
      });
      await pipeline(await zip.openReadStreamPromise(entry), counter, createWriteStream(target, { flags: 'wx' }), { signal });
    }
  } catch (error) {
    if (error instanceof ConvertInputError || signal?.aborted) throw signal?.aborted ? signal.reason : error;
    throw new ConvertInputError(`the zip is corrupt or truncated: ${(error as Error).message}`);
  } finally {
    zip.close();
  }
}
