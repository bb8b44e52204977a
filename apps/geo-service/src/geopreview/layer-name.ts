import { createHash } from 'node:crypto';

/** Longest table name: PostgreSQL keeps 63 bytes, and the index names add a suffix. */
export const MAX_TABLE_NAME = 50;
/**
 * Where a layer is loaded before it is swapped into the layers schema: it holds only the imports under way, so
 * GDAL, which reads every table of its schema when it creates one, does not read every layer of the portal (with
 * 10,000 layers beside it, creating the table took 277 ms instead of 35 ms).
 */
export const STAGING_SCHEMA = 'layers_staging';
export const TABLE_PREFIX = 'pre_';

const sanitise = (text: string): string => text.toLowerCase().replace(/[^a-z0-9]/g, '_');

/**
 * The table (and layer id) of a resource's layer, HDX style: `pre_<resource id>` with anything but letters and
 * digits turned into `_`; a layer of a multi-layer upload adds `__<layer>`. Too long a name is cut and ends with
 * a hash of the whole, so two resources never share a table.
 */
export function layerTableName(resourceId: string, layerKey?: string): string {
  const full = TABLE_PREFIX + sanitise(resourceId) + (layerKey === undefined ? '' : `__${sanitise(layerKey)}`);
  if (full.length <= MAX_TABLE_NAME) return full;
  const hash = createHash('sha256')
    .update(`${resourceId}\0${layerKey ?? ''}`)
    .digest('hex')
    .slice(0, 12);
  return `${full.slice(0, MAX_TABLE_NAME - hash.length - 1)}_${hash}`;
}
