/** SQLite's and SpatiaLite's own tables, which GDAL lists too when asked for every table. */
const SYSTEM_TABLES = [
  /^sqlite_/,
  /^(geometry_columns|views_geometry_columns|virts_geometry_columns|vector_layers)(_.+)?$/,
  /^spatial_ref_sys(_all|_aux)?$/,
  /^(spatialite_history|sql_statements_log|geom_cols_ref_sys|SpatialIndex|ElementaryGeometries|KNN2?|data_licenses)$/,
  /^(layer_statistics|layer_params|layer_sub_classes|layer_table_layout|views_layer_statistics|virts_layer_statistics)$/,
];

/**
 * The user tables of an SQLite/SpatiaLite database among every table GDAL lists (`SQLITE_LIST_ALL_TABLES`): not the
 * system tables above, and not the R*Tree tables of a spatial index (`idx_<table>_<column>` with its `_node`,
 * `_parent` and `_rowid` shadows), told apart from a user table of such a name by the shadows beside it.
 */
export function userTables(names: readonly string[]): string[] {
  const all = new Set(names);
  const rtrees = new Set(names.filter((name) => name.startsWith('idx_') && all.has(`${name}_node`) && all.has(`${name}_parent`)));
  const isIndex = (name: string) =>
    rtrees.has(name) || [...['_node', '_parent', '_rowid']].some((suffix) => name.endsWith(suffix) && rtrees.has(name.slice(0, -suffix.length)));
  return names.filter((name) => !SYSTEM_TABLES.some((pattern) => pattern.test(name)) && !isIndex(name));
}
