import type { ExportFormat } from '#shared';
import type { FieldKind } from './shapefile-rules.js';

/** One field of a layer: its name, how its values are kept, and the source's own type name (for the README). */
export interface LayerField {
  name: string;
  kind: FieldKind;
  sourceType: string;
}

/** What a writer made of one layer in one format: one entry per file a user opens (a shapefile's .shp, say). */
export interface ExportedFile {
  /** Its path in the ZIP (or under the sink's folder). */
  name: string;
  /** Companion files written beside it (a shapefile's .shx, .dbf, .prj, .cpg), by their path. */
  companions: string[];
  layer: string;
  format: ExportFormat;
  features: number;
  /** The field names as the file has them. */
  fields: string[];
  /** `EPSG:4326`, or the source's own CRS name; `none` for a file without geometry. */
  crs: string;
  /** What the format changed or could not hold: field names mapped, values truncated, a split. Empty when nothing. */
  notes: string[];
}

/** Progress of a writer: rows written so far in the file being written. */
export type RowsProgress = (rows: number) => void;
