import { open as openFile, readdir, readFile } from 'node:fs/promises';
import { basename, dirname, extname, join, relative } from 'node:path';
import gdal from 'gdal-async';
import { ConvertInputError, type TableSource, type TableSourceOpener } from '../../table-source.js';
import type { ArchiveLimits } from '#shared';
import { safeUnzip } from '../../unpack/safe-unzip.js';
import { GdalTableSource } from './gdal-table-source.js';
import { shapefileEncoding } from './shapefile-encoding.js';

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

export const isSqlite = (head: Buffer): boolean => head.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC);

/**
 * The size an SQLite file's header declares (page size × page count), when the header vouches for that count (its
 * "version-valid-for" equals its change counter); undefined otherwise. A shorter file was cut off in transit.
 */
export function sqliteDeclaredBytes(head: Buffer): number | undefined {
  if (head.length < 100 || !isSqlite(head)) return undefined;
  const pageSize = head.readUInt16BE(16) === 1 ? 65_536 : head.readUInt16BE(16);
  const pages = head.readUInt32BE(28);
  if (pages === 0 || head.readUInt32BE(24) !== head.readUInt32BE(92)) return undefined;
  return pageSize * pages;
}

/** A zip's local file header, or the end record of an empty zip. */
export const isZip = (head: Buffer): boolean => head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && [0x0304, 0x0506].includes(head.readUInt16BE(2));

const ENGINES: Record<string, string> = {
  GPKG: 'GeoPackage',
  SQLite: 'SQLite/SpatiaLite',
  OpenFileGDB: 'ESRI FileGDB',
  'ESRI Shapefile': 'ESRI Shapefile',
};

/** What a zip may hold: FileGDB folders, shapefiles, and GeoPackage / SQLite files. */
type Found = { kind: 'gdb' | 'shp' | 'sqlite'; path: string };

async function findSources(folder: string): Promise<Found[]> {
  const found: Found[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === '__MACOSX') continue;
      const path = join(dir, entry.name);
      const extension = extname(entry.name).toLowerCase();
      if (entry.isDirectory()) {
        if (extension === '.gdb') found.push({ kind: 'gdb', path });
        else await walk(path);
      } else if (entry.isFile() && extension === '.shp') {
        found.push({ kind: 'shp', path });
      } else if (entry.isFile() && ['.gpkg', '.sqlite', '.db'].includes(extension)) {
        found.push({ kind: 'sqlite', path });
      }
    }
  };
  await walk(folder);
  return found.sort((a, b) => relative(folder, a.path).localeCompare(relative(folder, b.path)));
}

/** The shapefile's DBF encoding, as GDAL reads it (its .cpg sidecar, else the DBF's language driver id). */
async function encodingOf(shp: string): Promise<string> {
  const folder = dirname(shp);
  const stem = basename(shp, extname(shp)).toLowerCase();
  const names = await readdir(folder);
  const sidecar = (extension: string) => names.find((name) => name.toLowerCase() === `${stem}${extension}`);
  const cpg = sidecar('.cpg');
  const dbf = sidecar('.dbf');
  let ldid: number | undefined;
  if (dbf) {
    const file = await openFile(join(folder, dbf));
    try {
      const header = Buffer.alloc(32);
      const { bytesRead } = await file.read(header, 0, header.length, 0);
      if (bytesRead > 29) ldid = header[29];
    } finally {
      await file.close();
    }
  }
  return shapefileEncoding(cpg ? (await readFile(join(folder, cpg))).toString('latin1') : undefined, ldid);
}

async function openDataset(path: string, drivers: string[], label: string): Promise<gdal.Dataset> {
  try {
    return await gdal.openAsync(path, 'r', drivers);
  } catch (error) {
    throw new ConvertInputError(`${label} cannot be opened: ${(error as Error).message.replace(/\s+/g, ' ').trim()} (corrupt or truncated?)`);
  }
}

/**
 * GDAL's databases: a GeoPackage or SQLite/SpatiaLite file (by its SQLite header), or a zip of FileGDB folders,
 * shapefiles or GeoPackages, expanded into the job's scratch folder with the zip-bomb and zip-slip defences.
 */
export class GdalOpener implements TableSourceOpener {
  readonly name = 'gdal';

  constructor(private readonly limits: ArchiveLimits) {
    // A database converted to CSV is every table of it, not only the spatial ones GDAL's SQLite driver lists by default
    // (its LIST_ALL_TABLES open option, which gdal-async cannot pass, falls back on this process-wide setting); the
    // system tables this brings in are left out by `userTables`.
    gdal.config.set('SQLITE_LIST_ALL_TABLES', 'YES');
  }

  recognises(head: Buffer): boolean {
    return isSqlite(head) || isZip(head);
  }

  async open(path: string, scratchDir: string, signal: AbortSignal): Promise<TableSource> {
    const head = Buffer.alloc(100);
    const file = await openFile(path);
    let size: number;
    try {
      await file.read(head, 0, head.length, 0);
      size = (await file.stat()).size;
    } finally {
      await file.close();
    }
    if (isSqlite(head)) {
      const declared = sqliteDeclaredBytes(head);
      if (declared !== undefined && size < declared) {
        throw new ConvertInputError(`the SQLite database is truncated: ${size} bytes of the ${declared} its header declares`);
      }
      const dataset = await openDataset(path, ['GPKG', 'SQLite'], 'the SQLite database');
      return new GdalTableSource([dataset], ENGINES[dataset.driver.description] ?? dataset.driver.description, 'UTF-8');
    }
    const folder = join(scratchDir, 'unpacked');
    await safeUnzip(path, folder, this.limits, signal);
    const found = await findSources(folder);
    if (found.length === 0) {
      throw new ConvertInputError('the zip holds no database geojobs can convert: no FileGDB folder (.gdb), Shapefile (.shp) or GeoPackage');
    }
    const datasets: gdal.Dataset[] = [];
    const charsets = new Set<string>();
    const engines = new Set<string>();
    try {
      for (const source of found) {
        signal.throwIfAborted();
        const name = relative(folder, source.path);
        const drivers = source.kind === 'gdb' ? ['OpenFileGDB'] : source.kind === 'shp' ? ['ESRI Shapefile'] : ['GPKG', 'SQLite'];
        const dataset = await openDataset(source.path, drivers, `"${name}"`);
        datasets.push(dataset);
        engines.add(ENGINES[dataset.driver.description] ?? dataset.driver.description);
        charsets.add(source.kind === 'shp' ? await encodingOf(source.path) : 'UTF-8');
      }
    } catch (error) {
      for (const dataset of datasets) dataset.close();
      throw error;
    }
    return new GdalTableSource(datasets, [...engines].join(', '), [...charsets].join(', '));
  }
}
