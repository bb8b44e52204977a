import type { Readable } from 'node:stream';
import type { LayerField } from './exported-file.js';
import type { ShapefileKind } from './shapefile-rules.js';

/** What the shapefile writer must know of a layer before it writes: its kinds of geometry, record sizes, long strings. */
export interface ShapefileStats {
  /** Per shapefile kind present in the layer. */
  kinds: Partial<Record<ShapefileKind, KindStats>>;
  /** Features whose geometry no shapefile holds (GEOMETRYCOLLECTION, curves…), by geometry type. */
  unholdable: Record<string, number>;
  /** Per string field: its longest value in bytes, and how many values pass the DBF's 254 bytes. */
  strings: Record<string, { maxBytes: number; over: number }>;
}

export interface KindStats {
  features: number;
  /** The largest .shp record of these features (a bound for file sources). */
  maxShpRecordBytes: number;
  /** Some are MULTIPOINTs (the points shapefile is then of type MultiPoint). */
  multi: boolean;
  hasZ: boolean;
}

/** The rows and columns of one shapefile part: the features of one kind, each field under its DBF name. */
export interface ShapefileSelection {
  kind: ShapefileKind;
  columns: { field: LayerField; alias: string }[];
  /** A part of a split layer: `limit` features from `offset`, in the layer's order. */
  offset?: number;
  limit?: number;
}

export interface TranslateOptions {
  /** Only these rows and columns (a shapefile part); the whole layer when absent. */
  selection?: ShapefileSelection;
  signal: AbortSignal;
  /** GDAL's progress, 0 to 1. */
  onFraction?: (fraction: number) => void;
}

/**
 * One vector layer to export, whatever holds it: a table of the layers schema (PostgisLayer) or a layer of a GIS file
 * (GdalFileLayer). The writers (vector-writers.ts) ask it for what they need and know nothing of where it lives.
 */
export interface VectorLayer {
  /** The layer's name in the files made of it (`<name>.csv`, `<name>_points.shp`). */
  readonly name: string;
  readonly fields: LayerField[];
  /** `EPSG:4326`, or the source CRS's name; `unknown` when the source has none. */
  readonly crs: string;
  readonly features: number;
  /**
   * The layer as CSV (header row, geometry as WKT in the first column `WKT`), streamed by the source itself; absent
   * when the source has no such stream (the writer then asks GDAL). `rows` resolves with the row count once the
   * stream has ended.
   */
  csvStream?(signal: AbortSignal): Promise<{ body: Readable; rows: Promise<number> }>;
  shapefileStats(signal: AbortSignal): Promise<ShapefileStats>;
  /** GDAL's vector translation of the layer (or a selection of it) into `destination`, with the output `args`. */
  translate(destination: string, args: string[], options: TranslateOptions): Promise<void>;
  close(): Promise<void>;
}

/** Rejects with the signal's reason as soon as it fires, running `stop` first, else settles as `work` does. */
export async function stopOnAbort<T>(work: Promise<T>, signal: AbortSignal, stop: () => Promise<unknown>): Promise<T> {
  let onAbort = () => {};
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => {
      void stop()
        .catch(() => undefined)
        .then(() => reject(signal.reason as Error));
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
    // the stopped work fails in its turn: not an unhandled rejection
    work.catch(() => undefined);
  }
}
