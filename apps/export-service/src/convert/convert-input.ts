import { open } from 'node:fs/promises';
import { ConvertInputError, type TableSourceOpener } from './table-source.js';

/** Bytes of the input the openers look at. */
export const HEAD_BYTES = 4_096;

/** The input's name for files and messages: the last segment of its URI's path, made safe; `database` when it has none. */
export function inputFileName(uri: string): string {
  let path = uri;
  try {
    path = new URL(uri).pathname;
  } catch {
    // not a URL: its text
  }
  let last = path.split('/').filter(Boolean).pop() ?? '';
  try {
    last = decodeURIComponent(last);
  } catch {
    // a stray % in the name: as it is
  }
  const safe = last
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(-120);
  return safe.length > 0 ? safe : 'database';
}

/** The input's name without its extension (`BACKUP.GDB` → `BACKUP`), for the ZIP's name in storage. */
export function inputBaseName(uri: string): string {
  const name = inputFileName(uri);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

export async function readHead(path: string): Promise<Buffer> {
  const file = await open(path);
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await file.read(head, 0, HEAD_BYTES, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/** The opener that reads a file starting with `head`; a file none reads is refused, naming what geojobs converts. */
export function pickOpener(openers: readonly TableSourceOpener[], head: Buffer, fileName: string): TableSourceOpener {
  if (head.length === 0) throw new ConvertInputError(`"${fileName}" is empty (0 bytes)`);
  const opener = openers.find((candidate) => candidate.recognises(head, fileName));
  if (!opener) {
    throw new ConvertInputError(`"${fileName}" is not a database geojobs can convert (GeoPackage, SQLite, FileGDB, Shapefile zip, Firebird .fbk/.fdb)`);
  }
  return opener;
}
