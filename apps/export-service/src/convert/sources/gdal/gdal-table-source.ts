import { setImmediate as nextTurn } from 'node:timers/promises';
import gdal from 'gdal-async';
import { ogrSqlCanName, quoteOgr } from '../../../formats/ogr-sql.js';
import { ConvertInputError, type NativeCsv, type SourceColumn, type SourceTable, type SourceValue, type TableSource } from '../../table-source.js';
import { gpkgNativeCsv } from './gpkg-native-csv.js';
import { ogrFieldPlan } from './ogr-values.js';
import { userTables } from './sqlite-system-tables.js';

/** Features read in one turn of the event loop at most, and for at most this long (see `rows`). */
const FEATURES_PER_TURN = 2_000;
const MS_PER_TURN = 20;

/** One table of the source: its layer, and how each field of a feature becomes a value. */
interface LayerPlan {
  table: SourceTable;
  dataset: gdal.Dataset;
  layer: gdal.Layer;
  hasFid: boolean;
  hasGeometry: boolean;
  values: ((raw: unknown) => SourceValue)[];
  /** The OGR SQL that reads the layer with its date-times and times as OGR's text (see `readAsText`), when it has any. */
  textSql?: string;
}

/**
 * A SELECT of the layer's fields, in order, those read as text cast by OGR SQL (which keeps each feature's fid and
 * geometry); undefined when none is, or when OGR SQL cannot name the layer or a field.
 */
function textSelect(layer: gdal.Layer, asText: boolean[]): string | undefined {
  const fields = layer.fields.map((field) => field.name);
  if (!asText.includes(true) || ![layer.name, ...fields].every(ogrSqlCanName)) return undefined;
  const columns = fields.map((field, index) => (asText[index] ? `CAST(${quoteOgr(field)} AS character(0))` : quoteOgr(field)));
  return `SELECT ${columns.join(', ')} FROM ${quoteOgr(layer.name)}`;
}

const geometryTypeName = (layer: gdal.Layer): string => {
  let srs = '';
  try {
    const code = layer.srs?.getAuthorityCode(null);
    if (code) srs = `, ${layer.srs?.getAuthorityName(null) ?? 'EPSG'}:${code}`;
  } catch {
    // a layer without an authority code: its type alone
  }
  return `${gdal.Geometry.getName(layer.geomType) ?? 'Geometry'} (WKT${srs})`;
};

/** The columns of a layer: its FID column when the format has a real one, its fields, then its geometry as WKT. */
function planLayer(name: string, dataset: gdal.Dataset, layer: gdal.Layer): LayerPlan {
  const columns: SourceColumn[] = [];
  const values: LayerPlan['values'] = [];
  const asText: boolean[] = [];
  const hasFid = layer.fidColumn !== '';
  if (hasFid) columns.push({ name: layer.fidColumn, type: 'Integer64 (FID)', kind: 'integer' });
  layer.fields.forEach((field) => {
    const plan = ogrFieldPlan(field.type, field.width);
    columns.push({ name: field.name, type: plan.type, kind: plan.kind });
    values.push(plan.value);
    asText.push(plan.readAsText === true);
  });
  const hasGeometry = layer.geomType !== gdal.wkbNone;
  if (hasGeometry) columns.push({ name: layer.geomColumn || 'geometry', type: geometryTypeName(layer), kind: 'geometry' });
  return { table: { name, columns }, dataset, layer, hasFid, hasGeometry, values, textSql: textSelect(layer, asText) };
}

const gdalMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();

/**
 * GeoPackage, SQLite/SpatiaLite, FileGDB and Shapefile tables through GDAL: every layer of every dataset a table, its
 * fields typed from their OGR types, its geometry as WKT. GDAL hands strings as UTF-8 whatever the file's encoding
 * (`charset` says what that encoding was).
 */
export class GdalTableSource implements TableSource {
  private plans?: LayerPlan[];

  constructor(
    private readonly datasets: gdal.Dataset[],
    readonly engine: string,
    readonly charset: string,
  ) {}

  async tables(): Promise<SourceTable[]> {
    return this.layerPlans().map((plan) => plan.table);
  }

  /**
   * The rows of a table, read one feature after the other with a cursor (OGR's sequential reading), never the layer
   * whole. Features are read with gdal-async's synchronous calls, a slice at a time (FEATURES_PER_TURN features or
   * MS_PER_TURN ms), yielding to the event loop between slices: an asynchronous call per feature (its async iterator)
   * costs a thread-pool round trip each, measured at about 3 times the time of the whole conversion, while a slice
   * keeps the event loop free for the broker's heartbeats and the cancel signal. A layer with date-times or times is
   * read through OGR SQL, which gives them as text with their milliseconds.
   */
  async *rows(table: SourceTable, signal: AbortSignal): AsyncIterable<SourceValue[]> {
    const { dataset, layer, hasFid, hasGeometry, values, textSql } = this.plan(table);
    const width = values.length;
    let feature: gdal.Feature | null;
    const batch: SourceValue[][] = [];
    try {
      const features = (textSql === undefined ? layer : dataset.executeSQL(textSql, undefined, 'OGRSQL')).features;
      feature = features.first();
      while (feature) {
        signal.throwIfAborted();
        const until = performance.now() + MS_PER_TURN;
        do {
          const raw = feature.fields.toArray();
          const row: SourceValue[] = [];
          if (hasFid) row.push(feature.fid);
          for (let i = 0; i < width; i++) row.push(values[i](raw[i]));
          if (hasGeometry) row.push(feature.getGeometry()?.toWKT() ?? null);
          batch.push(row);
          feature = features.next();
        } while (feature && batch.length < FEATURES_PER_TURN && performance.now() < until);
        yield* batch;
        batch.length = 0;
        await nextTurn();
      }
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (error instanceof ConvertInputError) throw error;
      throw new ConvertInputError(`reading table ${JSON.stringify(table.name)} failed: ${gdalMessage(error)}`);
    }
  }

  /** A GeoPackage table (with a fid, without binary fields) is written by GDAL's CSV driver itself: see gpkg-native-csv. */
  async nativeCsv(table: SourceTable): Promise<NativeCsv | undefined> {
    const plan = this.plan(table);
    if (plan.dataset.driver.description !== 'GPKG' || !plan.hasFid) return undefined;
    const { layer } = plan;
    const fields: { name: string; type: string }[] = [];
    layer.fields.forEach((field) => void fields.push({ name: field.name, type: field.type }));
    try {
      return await gpkgNativeCsv(plan.dataset.description, {
        name: layer.name,
        fid: layer.fidColumn,
        fields,
        geometry: plan.hasGeometry ? layer.geomColumn : undefined,
        geometryType: layer.geomType,
      });
    } catch (error) {
      throw new ConvertInputError(`reading table ${JSON.stringify(table.name)} failed: ${gdalMessage(error)}`);
    }
  }

  async close(): Promise<void> {
    for (const dataset of this.datasets) {
      try {
        dataset.close();
      } catch {
        // already closed
      }
    }
  }

  private plan(table: SourceTable): LayerPlan {
    const plan = this.layerPlans().find((candidate) => candidate.table === table || candidate.table.name === table.name);
    if (!plan) throw new ConvertInputError(`no table ${JSON.stringify(table.name)}`);
    return plan;
  }

  /** Layers of every dataset, named as GDAL names them; a name taken by an earlier dataset gets ` (2)`, ` (3)` … */
  private layerPlans(): LayerPlan[] {
    if (this.plans) return this.plans;
    const plans: LayerPlan[] = [];
    const taken = new Set<string>();
    try {
      for (const dataset of this.datasets) {
        const layers: gdal.Layer[] = [];
        dataset.layers.forEach((layer) => void layers.push(layer));
        // GDAL's SQLite driver lists SQLite's and SpatiaLite's own tables too when it lists them all
        const kept = dataset.driver.description === 'SQLite' ? new Set(userTables(layers.map((layer) => layer.name))) : undefined;
        for (const layer of layers) {
          if (kept && !kept.has(layer.name)) continue;
          let name = layer.name;
          for (let n = 2; taken.has(name); n++) name = `${layer.name} (${n})`;
          taken.add(name);
          plans.push(planLayer(name, dataset, layer));
        }
      }
    } catch (error) {
      throw new ConvertInputError(`the database's tables cannot be listed: ${gdalMessage(error)}`);
    }
    this.plans = plans;
    return plans;
  }
}
