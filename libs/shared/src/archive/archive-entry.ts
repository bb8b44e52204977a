import { isAbsolute, posix, win32 } from 'node:path';

export type EntryVerdict = { ok: true; path: string } | { ok: false; reason: string };

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/** Whether a zip entry's Unix mode (the high half of its external attributes) says it is a symbolic link. */
export const isSymlink = (externalFileAttributes: number): boolean => ((externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK;

/**
 * Decides whether a zip entry may be extracted: its name must be a relative path that stays inside the
 * folder, written with `/` (a `\` is taken as a separator too, as Windows tools write it), and not a link.
 */
export function checkArchiveEntry(fileName: string, externalFileAttributes = 0): EntryVerdict {
  if (isSymlink(externalFileAttributes)) return { ok: false, reason: `"${fileName}" is a symbolic link` };
  if (fileName.includes('\0')) return { ok: false, reason: 'an entry name holds a NUL byte' };
  const name = fileName.replace(/\\/g, '/');
  if (isAbsolute(name) || win32.isAbsolute(fileName) || /^[A-Za-z]:/.test(name)) {
    return { ok: false, reason: `"${fileName}" is an absolute path` };
  }
  const normalised = posix.normalize(name);
  if (normalised === '..' || normalised.startsWith('../') || name.split('/').includes('..')) {
    return { ok: false, reason: `"${fileName}" escapes the folder` };
  }
  return { ok: true, path: normalised };
}

export interface ArchiveLimits {
  maxUnpackedBytes: number;
  maxRatio: number;
  maxEntries: number;
}

/** The zip-bomb checks on what the archive declares; the bytes actually written are checked again while extracting. */
export function checkArchiveSize(declared: { entries: number; unpackedBytes: number; archiveBytes: number }, limits: ArchiveLimits): string | null {
  if (declared.entries > limits.maxEntries) return `the archive holds ${declared.entries} entries, over the limit of ${limits.maxEntries}`;
  if (declared.unpackedBytes > limits.maxUnpackedBytes) {
    return `the archive expands to ${declared.unpackedBytes} bytes, over the limit of ${limits.maxUnpackedBytes}`;
  }
  const ratio = declared.unpackedBytes / Math.max(declared.archiveBytes, 1);
  if (ratio > limits.maxRatio) return `the archive expands ${Math.round(ratio)} times its size, over the limit of ${limits.maxRatio}`;
  return null;
}
