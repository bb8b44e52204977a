/**
 * Vector export writers, shared by every export: a layer (a PostGIS table of the layers schema, or a layer of a GIS
 * file) written as CSV, Shapefile, GeoPackage or GeoJSON into a sink (a ZIP streamed to storage, or a storage folder),
 * each file reported for the README.
 */
export { ZipSink, StorageSink, type ExportSink, type ZipSinkOptions } from './export-sink.js';
export type { ExportedFile, LayerField, RowsProgress } from './exported-file.js';
export { GdalFileLayer, crsName } from './gdal-file-layer.js';
export { PostgisLayer, EXPORT_APPLICATION_NAME } from './postgis-layer.js';
export { renderReadme, type ReadmeContent } from './readme.js';
export {
  shapefileFieldNames,
  shapefileKindOf,
  planShapefileParts,
  shapefileBaseName,
  type FieldKind,
  type FieldNameMapping,
  type ShapefileKind,
  type ShapefilePlan,
} from './shapefile-rules.js';
export type { ShapefileStats, VectorLayer } from './vector-layer.js';
export { writeLayer, shapefileNotes, type WriteOptions } from './vector-writers.js';
