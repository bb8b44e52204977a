import { ForbiddenException } from '@nestjs/common';
import type { Principal, TokenScope } from './principal.js';

/**
 * A path that reads one way only: no dot segments (`.`, `..`, percent-encoded or not) and no encoded slash or
 * backslash. Any of them could make a path that is textually below a scope's prefix reach something outside it
 * once a router, a proxy or a file system decodes or normalises it (`/jobs/1/../2`, `/jobs/1%2F..%2F2`), so a
 * temporary token is never good for such a path, whatever its scope.
 */
export function isPlainPath(path: string): boolean {
  if (/%2f|%5c|\\/i.test(path)) return false;
  return path.split('/').every((segment) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return false; // a malformed escape reads no way at all
    }
    return decoded !== '.' && decoded !== '..';
  });
}

/** `path` is `prefix` or below it, on a segment boundary (`/jobs/1` holds `/jobs/1/result`, not `/jobs/10`), and plain. */
export function pathWithin(path: string, prefix: string): boolean {
  if (!isPlainPath(path)) return false;
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return path === base || path.startsWith(`${base}/`);
}

/** Whether a temporary token's scope allows this method on this path. */
export const scopeAllows = (scope: TokenScope, method: string, path: string): boolean =>
  scope.methods.includes(method) && scope.paths.some((prefix) => pathWithin(path, prefix));

/** A temporary token minted with a temporary token can only narrow what the first one allowed. */
export function narrow(current: TokenScope | undefined, wanted: TokenScope): TokenScope {
  if (!current) return wanted;
  return {
    methods: wanted.methods.filter((method) => current.methods.includes(method)),
    paths: wanted.paths.filter((path) => current.paths.some((allowed) => pathWithin(path, allowed))),
  };
}

/** Refuses (403) a request outside what the caller's temporary token allows; any other caller passes. */
export function assertWithinScope(principal: Principal, method: string, path: string): void {
  if (principal.scope && !scopeAllows(principal.scope, method, path)) {
    throw new ForbiddenException(`this temporary token does not allow ${method} ${path}`);
  }
}
