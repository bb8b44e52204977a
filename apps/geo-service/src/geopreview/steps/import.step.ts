import { defineOptionalStep, LAYERS_SCHEMA, sha256, quoteIdent } from '#shared';
import { FormatError } from '../geopreview.errors.js';
import { layerTableName } from '../layer-name.js';
import type { DownloadedSource } from './download.step.js';
import { selects, type GeopreviewDependencies, type GeopreviewInput, type OpenedLayers } from './geopreview.steps.js';
import type { SourceLayers } from './open.step.js';

/** Bump when the import writes other tables for the same file: every layer is then imported again. */
const IMPORT_VERSION = 1;

/** The table the import wrote (cleaned: features out of lon/lat range dropped), and what it had to do. */
export interface ImportedTable {
  table: string;
  sourceLayer: string;
  droppedFeatures: number;
  recoveries: string[];
  /** Written on the table as its comment: the table still holds this import when the comment is unchanged. */
  stamp: string;
}

const stampComment = (stamp: string): string => `geojobs import ${stamp}`;

/**
 * import: the one layer to import (the upload's only layer, or the one the command names) into PostGIS, cleaned,
 * indexed and swapped in atomically. The expensive step: cached by the file's digest, the layer and the resource,
 * and skipped while the table still holds that import.
 */
export const importStep = (deps: GeopreviewDependencies, opened: OpenedLayers) =>
  defineOptionalStep<GeopreviewInput, { download: DownloadedSource; open: SourceLayers }>()({
    name: 'import',
    version: IMPORT_VERSION,
    needs: ['download', 'open'],
    isApplicable: (ctx) => ctx.input.layer !== undefined || ctx.outputs.open.layers.length === 1,
    // The table may have been dropped since, or replaced by an import of another file for the same resource.
    async isNeeded(_ctx, cached: ImportedTable) {
      const rows: { comment: string | null }[] = await deps.database.query(
        `SELECT obj_description(c.oid, 'pg_class') AS comment FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relname = $2`,
        [LAYERS_SCHEMA, cached.table],
      );
      return rows[0]?.comment !== stampComment(cached.stamp);
    },
    async process(ctx): Promise<ImportedTable> {
      const { layers } = ctx.outputs.open;
      const wanted = ctx.input.layer ?? layers[0].key;
      const layer = layers.find((candidate) => selects(candidate, wanted));
      const source = layer && opened.find(layer.key);
      if (!layer || !source) throw new FormatError(`no layer "${wanted}" in the file`);
      const table = layerTableName(ctx.input.resourceId, layers.length > 1 ? layer.key : undefined);
      const { droppedFeatures, recoveries } = await opened.use(deps.imports.importLayer(source, table, ctx.signal));
      const stamp = sha256(`${ctx.outputs.download.sha256}\n${layer.key}\n${table}\n${IMPORT_VERSION}`);
      await deps.database.query(`COMMENT ON TABLE ${LAYERS_SCHEMA}.${quoteIdent(table)} IS '${stampComment(stamp)}'`);
      return { table, sourceLayer: layer.key, droppedFeatures, recoveries, stamp };
    },
    describe: (_ctx, output: ImportedTable) =>
      [`into ${output.table}`, output.droppedFeatures > 0 ? `${output.droppedFeatures} features out of range dropped` : '', ...output.recoveries]
        .filter(Boolean)
        .join(', '),
  });
