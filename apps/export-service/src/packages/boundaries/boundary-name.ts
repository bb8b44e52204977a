import { BOUNDARY_NAME_PATTERN } from '#shared';

/**
 * A boundary's name from the value of the boundaries file's name field: lower case (as irv-autopkg's names were),
 * every run of characters a storage path cannot hold made `_`. Undefined when nothing usable is left.
 */
export function boundaryName(raw: unknown): string | undefined {
  if (typeof raw !== 'string' && typeof raw !== 'number') return undefined;
  const name = String(raw)
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '_')
    .replace(/^[._-]+|[._-]+$/g, '')
    .slice(0, 100);
  return BOUNDARY_NAME_PATTERN.test(name) ? name : undefined;
}
