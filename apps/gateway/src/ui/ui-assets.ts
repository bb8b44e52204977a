import { extname, normalize } from 'node:path';

/** Where Vite puts the dashboard's build, from this module in dist/apps/gateway/src/ui/. */
export const UI_DIST_DIR = new URL('../../../../ui/', import.meta.url);

/** Vite's hashed bundles: a new build gets new names, so a browser may keep these for good. */
const HASHED_ASSET = /^assets\/.+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

export interface UiFile {
  /** Relative to the build folder. */
  file: string;
  cacheControl: string;
}

/**
 * The file of the build that answers `/ui/<path>`, and how long a browser may cache it: a hashed asset for a year
 * (immutable), anything else — index.html above all, which names the current bundles — never without asking again.
 * A path that is not a file of the build (a page of the app such as `/ui/jobs/…`) is the app's index.html; a path
 * that tries to leave the folder is the index too.
 */
export function uiFileFor(path: string, exists: (file: string) => boolean): UiFile {
  const relative = normalize(path.replace(/^\/+/, ''));
  const safe = relative !== '.' && !relative.startsWith('..') && !relative.includes('\0');
  if (safe && extname(relative) !== '' && exists(relative)) {
    return { file: relative, cacheControl: HASHED_ASSET.test(relative) ? 'public, max-age=31536000, immutable' : 'no-cache' };
  }
  return { file: 'index.html', cacheControl: 'no-cache' };
}
