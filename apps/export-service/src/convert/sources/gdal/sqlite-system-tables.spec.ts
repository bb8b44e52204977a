import { userTables } from './sqlite-system-tables.js';

describe('userTables', () => {
  it('leaves out SQLite and SpatiaLite system tables and spatial index tables', () => {
    const listed = [
      'cities',
      'ElementaryGeometries',
      'KNN',
      'SpatialIndex',
      'data_licenses',
      'geometry_columns',
      'geometry_columns_auth',
      'idx_cities_geom',
      'idx_cities_geom_node',
      'idx_cities_geom_parent',
      'idx_cities_geom_rowid',
      'meta',
      'spatial_ref_sys',
      'spatial_ref_sys_aux',
      'spatialite_history',
      'sql_statements_log',
      'sqlite_sequence',
      'vector_layers_statistics',
      'views_geometry_columns',
      'virts_geometry_columns_field_infos',
      'idx_of_streets',
    ];
    expect(userTables(listed)).toEqual(['cities', 'meta', 'idx_of_streets']);
  });
});
