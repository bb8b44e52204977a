import { readdir, stat } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import { ArchiveRefusedError, safeUnzip, type ArchiveLimits } from '#shared';
import { ArchiveTooLargeError, UnpackError, UnsafeArchiveEntryError } from './geopreview.errors.js';

/** Files GDAL opens as a layer source; a `.gdb` folder is a FileGDB. Sidecars (.dbf, .shx, .prj) are not listed. */
export const LAYER_EXTENSIONS = ['.shp', '.geojson', '.json', '.kml', '.gpkg', '.csv', '.gdb'] as const;

/**
 * Expands zip and kmz archives into the scratch folder, refusing entries that would land outside it (absolute
 * paths, `..`, links) and archives over the expanded size, ratio or entry count limits — checked on what the
 * archive declares, then again on the bytes written — and finds the layer files inside, in nested folders too.
 */
export class UnpackService {
  constructor(private readonly limits: ArchiveLimits) {}

  /** The shared safe unzip (libs/shared/src/archive), its refusals as geopreview's errors, their messages kept. */
  async unzip(archive: string, folder: string): Promise<void> {
    try {
      await safeUnzip(archive, folder, this.limits);
    } catch (error) {
      if (!(error instanceof ArchiveRefusedError)) throw error;
      const options = { cause: error };
      if (error.problem === 'too-large') throw new ArchiveTooLargeError(error.message, options);
      if (error.problem === 'unsafe-entry') throw new UnsafeArchiveEntryError(error.message, options);
      throw new UnpackError(error.message, options);
    }
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
