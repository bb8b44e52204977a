import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream';
import type { ExportFormat } from '#shared';
import type { ExportSink } from './export-sink.js';
import type { ExportedFile, LayerField, RowsProgress } from './exported-file.js';
import { countingRows } from './postgis-layer.js';
import {
  DBF_STRING_BYTES,
  dbfFieldWidthBound,
  planShapefileParts,
  SHAPEFILE_KINDS,
  shapefileBaseName,
  shapefileFieldNames,
  type ShapefileKind,
} from './shapefile-rules.js';
import type { KindStats, ShapefileStats, VectorLayer } from './vector-layer.js';

export interface WriteOptions {
  /** A folder of the job's own for the files GDAL writes (each is removed once in the sink). */
  scratchDir: string;
  signal: AbortSignal;
  /** Largest .shp or .dbf of one shapefile part (GEOJOBS_SHAPEFILE_MAX_BYTES). */
  shapefileMaxBytes: number;
  /** Rows written so far in the current file. */
  onRows?: RowsProgress;
}

/** Writes one layer in one format into the sink; reports every file it made. */
export async function writeLayer(layer: VectorLayer, format: ExportFormat, sink: ExportSink, options: WriteOptions): Promise<ExportedFile[]> {
  options.signal.throwIfAborted();
  switch (format) {
    case 'csv':
      return [await writeCsv(layer, sink, options)];
    case 'gpkg':
      return [await writeWithGdal(layer, sink, options, { format, extension: 'gpkg', args: ['-f', 'GPKG'] })];
    case 'geojson':
      return [await writeWithGdal(layer, sink, options, { format, extension: 'geojson', args: ['-f', 'GeoJSON'] })];
    case 'shp':
      return writeShapefiles(layer, sink, options);
  }
}

const fractionToRows = (layer: VectorLayer, onRows?: RowsProgress) =>
  onRows ? (fraction: number) => onRows(Math.round(fraction * layer.features)) : undefined;

const report = (layer: VectorLayer, format: ExportFormat, name: string, features: number, extra: Partial<ExportedFile> = {}): ExportedFile => ({
  name,
  companions: [],
  layer: layer.name,
  format,
  features,
  fields: layer.fields.map((field) => field.name),
  crs: layer.crs,
  notes: [],
  ...extra,
});

/**
 * CSV, geometry as WKT in the first column: streamed from the source into the sink when the source can (PostGIS's
 * COPY: no temporary file, memory flat), else written by GDAL in scratch.
 */
async function writeCsv(layer: VectorLayer, sink: ExportSink, options: WriteOptions): Promise<ExportedFile> {
  const name = `${layer.name}.csv`;
  if (!layer.csvStream) {
    return writeWithGdal(layer, sink, options, {
      format: 'csv',
      extension: 'csv',
      args: ['-f', 'CSV', '-lco', 'GEOMETRY=AS_WKT', '-lco', 'LINEFORMAT=LF', '-lco', 'STRING_QUOTING=IF_NEEDED'],
    });
  }
  const { body, rows } = await layer.csvStream(options.signal);
  let entry = body;
  if (options.onRows) {
    // pipeline, not pipe: a failed COPY must fail the entry (and the archive), not leave it waiting
    entry = pipeline(body, countingRows(options.onRows), () => undefined);
  }
  await Promise.all([sink.addStream(name, entry), rows]);
  return report(layer, 'csv', name, await rows);
}

async function writeWithGdal(
  layer: VectorLayer,
  sink: ExportSink,
  options: WriteOptions,
  output: { format: ExportFormat; extension: string; args: string[] },
): Promise<ExportedFile> {
  const name = `${layer.name}.${output.extension}`;
  const folder = join(options.scratchDir, `${output.format}-${layer.name}`);
  await mkdir(folder, { recursive: true });
  try {
    const path = join(folder, name);
    await layer.translate(path, [...output.args, '-nln', layer.name], { signal: options.signal, onFraction: fractionToRows(layer, options.onRows) });
    await sink.addFile(name, path);
    return report(layer, output.format, name, layer.features);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** What a shapefile cannot hold of the layer's fields and features, for the README: never silently lost. */
export function shapefileNotes(fields: LayerField[], stats: ShapefileStats, renamed: { source: string; shapefile: string }[]): string[] {
  const notes: string[] = [];
  const changed = renamed.filter((mapping) => mapping.source !== mapping.shapefile);
  if (changed.length > 0) {
    notes.push(`field names cut to the 10 characters a DBF allows: ${changed.map((mapping) => `${mapping.source} → ${mapping.shapefile}`).join(', ')}`);
  }
  for (const field of fields) {
    if (field.kind === 'datetime') notes.push(`${field.name} (date and time): written as text, since a DBF date holds no time of day`);
    if (field.kind === 'time') notes.push(`${field.name} (time of day): written as text, since a DBF has no time type`);
    if (field.kind === 'boolean') notes.push(`${field.name} (true/false): written as 1/0`);
    const long = stats.strings[field.name];
    if (long && long.over > 0) {
      notes.push(
        `${field.name}: ${long.over} value${long.over === 1 ? '' : 's'} longer than ${DBF_STRING_BYTES} bytes cut to ${DBF_STRING_BYTES} (whole in the other formats)`,
      );
    }
  }
  for (const [type, count] of Object.entries(stats.unholdable)) {
    notes.push(`${count} feature${count === 1 ? '' : 's'} of geometry type ${type} left out: no shapefile holds that type (they are in the other formats)`);
  }
  return notes;
}

/** The shapefile geometry type of a kind (GDAL's -nlt): a points file holding any MULTIPOINT is a MultiPoint file. */
function geometryTypeOf(kind: ShapefileKind, stats: KindStats): string {
  const z = stats.hasZ ? 'Z' : '';
  switch (kind) {
    case 'points':
      return `${stats.multi ? 'MULTIPOINT' : 'POINT'}${z}`;
    case 'lines':
      return `MULTILINESTRING${z}`;
    case 'polygons':
      return `MULTIPOLYGON${z}`;
    case 'none':
      return 'NONE';
  }
}

/**
 * Shapefiles done right: one per kind of geometry (points, lines, polygons; none for features without geometry),
 * field names cut to 10 characters without clashes, a `.cpg` saying UTF-8, a kind whose .shp or .dbf would pass
 * the limit split into parts each under it, and what the format cannot hold named in every file's notes.
 */
async function writeShapefiles(layer: VectorLayer, sink: ExportSink, options: WriteOptions): Promise<ExportedFile[]> {
  const { signal, shapefileMaxBytes } = options;
  // GDAL makes a shapefile's folder, not the folders above it
  await mkdir(options.scratchDir, { recursive: true });
  const stats = await layer.shapefileStats(signal);
  const mapping = shapefileFieldNames(layer.fields.map((field) => field.name));
  const columns = layer.fields.map((field, index) => ({ field, alias: mapping[index].shapefile }));
  const common = shapefileNotes(layer.fields, stats, mapping);
  const dbfRecordBytes = 1 + layer.fields.reduce((sum, field) => sum + dbfFieldWidthBound(field.kind, stats.strings[field.name]?.maxBytes), 0);
  const files: ExportedFile[] = [];
  for (const kind of SHAPEFILE_KINDS) {
    const kindStats = stats.kinds[kind];
    if (!kindStats || kindStats.features === 0) continue;
    const plan = planShapefileParts(
      { features: kindStats.features, maxShpRecordBytes: kind === 'none' ? 0 : kindStats.maxShpRecordBytes, dbfRecordBytes, fields: layer.fields.length },
      shapefileMaxBytes,
    );
    for (let part = 1; part <= plan.parts; part++) {
      signal.throwIfAborted();
      const base = shapefileBaseName(layer.name, kind, part, plan.parts);
      const folder = join(options.scratchDir, `shp-${base}`);
      await rm(folder, { recursive: true, force: true });
      try {
        const split = plan.parts > 1 ? { offset: (part - 1) * plan.perPart, limit: plan.perPart } : {};
        await layer.translate(folder, ['-f', 'ESRI Shapefile', '-nln', base, '-nlt', geometryTypeOf(kind, kindStats), '-lco', 'ENCODING=UTF-8'], {
          selection: { kind, columns, ...split },
          signal,
          onFraction: fractionToRows(layer, options.onRows),
        });
        const written = (await readdir(folder)).sort();
        for (const file of written) {
          const { size } = await stat(join(folder, file));
          // the plan is made from bounds; were a bound wrong, the file must not go out broken
          if (size > shapefileMaxBytes) throw new Error(`${file} is ${size} bytes, over the shapefile limit of ${shapefileMaxBytes}`);
        }
        for (const file of written) await sink.addFile(file, join(folder, file));
        const main = written.find((file) => file === `${base}.shp`) ?? `${base}.dbf`;
        const features = part < plan.parts ? plan.perPart : kindStats.features - plan.perPart * (plan.parts - 1);
        const notes = [...common];
        if (kind === 'none') notes.unshift('features without geometry: a table (.dbf) only');
        if (plan.parts > 1) {
          notes.unshift(
            `part ${part} of ${plan.parts}: the layer's ${kind === 'none' ? 'features without geometry' : kind} would pass the shapefile limit of ${shapefileMaxBytes} bytes per .shp/.dbf`,
          );
        }
        files.push(
          report(layer, 'shp', main, features, {
            companions: written.filter((file) => file !== main),
            fields: columns.map((column) => column.alias),
            crs: kind === 'none' ? 'none' : layer.crs,
            notes,
          }),
        );
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    }
  }
  // an empty layer, or one of geometry collections only, has no shapefile: the README lists none for it
  return files;
}
