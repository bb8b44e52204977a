import { createWriteStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { checkArchiveEntry, checkArchiveSize, type ArchiveLimits } from './archive-entry.js';
import { ArchiveTooLargeError, UnpackError, UnsafeArchiveEntryError } from './geopreview.errors.js';

/** Files GDAL opens as a layer source; a `.gdb` folder is a FileGDB. Sidecars (.dbf, .shx, .prj) are not listed. */
export const LAYER_EXTENSIONS = ['.shp', '.geojson', '.json', '.kml', '.gpkg', '.csv', '.gdb'] as const;

const entryName = (entry: Entry): string => {
  const raw = entry.fileName as unknown;
  if (!Buffer.isBuffer(raw)) return String(raw);
  return raw.toString(entry.generalPurposeBitFlag & 0x800 ? 'utf8' : 'latin1');
};

/**
 * Expands zip and kmz archives into the scratch folder, refusing entries that would land outside it (absolute
 * paths, `..`, links) and archives over the expanded size, ratio or entry count limits — checked on what the
 * archive declares, then again on the bytes written — and finds the layer files inside, in nested folders too.
 */
export class UnpackService {
  constructor(private readonly limits: ArchiveLimits) {}

  async unzip(archive: string, folder: string): Promise<void> {
    let zip: ZipFile;
    try {
      zip = await yauzl.openPromise(archive, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true });
    } catch (error) {
      throw new UnpackError(`the archive is corrupt or truncated: ${(error as Error).message}`, { cause: error });
    }
    try {
      const entries = await this.readEntries(zip);
      const problem = checkArchiveSize(
        { entries: entries.length, unpackedBytes: entries.reduce((sum, entry) => sum + entry.uncompressedSize, 0), archiveBytes: zip.fileSize },
        this.limits,
      );
      if (problem) throw new ArchiveTooLargeError(problem);
      const root = resolve(folder);
      let written = 0;
      for (const entry of entries) {
        const verdict = checkArchiveEntry(entryName(entry), entry.externalFileAttributes);
        if (!verdict.ok) throw new UnsafeArchiveEntryError(`refusing the archive: ${verdict.reason}`);
        const target = resolve(root, verdict.path);
        if (target !== root && !target.startsWith(root + sep)) throw new UnsafeArchiveEntryError(`refusing the archive: "${verdict.path}" escapes the folder`);
        if (entryName(entry).endsWith('/')) {
          await mkdir(target, { recursive: true });
          continue;
        }
        await mkdir(dirname(target), { recursive: true });
        const limit = this.limits.maxUnpackedBytes;
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            written += chunk.length;
            if (written > limit) return callback(new ArchiveTooLargeError(`the archive expands to more than ${limit} bytes`));
            callback(null, chunk);
          },
        });
        await pipeline(await zip.openReadStreamPromise(entry), counter, createWriteStream(target, { flags: 'wx' }));
      }
    } catch (error) {
      if (error instanceof UnpackError) throw error;
      throw new UnpackError(`the archive is corrupt or truncated: ${(error as Error).message}`, { cause: error });
    } finally {
      zip.close();
    }
  }

  private readEntries(zip: ZipFile): Promise<Entry[]> {
    return new Promise((resolveEntries, reject) => {
      const entries: Entry[] = [];
      zip.on('entry', (entry: Entry) => {
        entries.push(entry);
        if (entries.length > this.limits.maxEntries) {
          reject(new ArchiveTooLargeError(`the archive holds more than ${this.limits.maxEntries} entries`));
          return;
        }
        zip.readEntry();
      });
      zip.once('end', () => resolveEntries(entries));
      zip.once('error', reject);
      zip.readEntry();
    });
  }

  /** Layer files under a folder, nested folders included (not inside a `.gdb`, which is one source), sorted. */
  async findLayerFiles(folder: string): Promise<string[]> {
    const found: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        if (entry.name.startsWith('.') || entry.name === '__MACOSX') continue;
        const path = join(dir, entry.name);
        const extension = extname(entry.name).toLowerCase();
        if (entry.isDirectory()) {
          if (extension === '.gdb') found.push(path);
          else await walk(path);
        } else if (entry.isFile() && (LAYER_EXTENSIONS as readonly string[]).includes(extension) && (await stat(path)).size > 0) {
          found.push(path);
        }
      }
    };
    await walk(folder);
    return found.sort((a, b) => relative(folder, a).localeCompare(relative(folder, b)));
  }
}
