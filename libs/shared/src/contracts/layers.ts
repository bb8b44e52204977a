/**
 * What geo-service and the gateway agree on about the layers schema: geo-service writes it, the gateway reads it
 * (descriptions and vector tiles) through the read-only layers reader role.
 */
export const LAYERS_SCHEMA = 'layers';
/** The geometry column of every layer table, HDX's name (its tile URL carries it: `/postgis/:layer/wkb_geometry/…`). */
export const LAYER_GEOMETRY_COLUMN = 'wkb_geometry';
export const LAYER_FID_COLUMN = 'ogc_fid';
export const WEB_MERCATOR = 3857;

/**
 * The features Web Mercator can show: longitudes within ±180°, latitudes within ±85.06°. geo-service builds each
 * layer's GiST index on `ST_Transform(geometry, 3857)` with this as its WHERE (so ST_Transform never sees a
 * coordinate it refuses), and the tile query repeats it word for word so that the planner may use that partial
 * index. `geometry` is a quoted identifier.
 */
export const webMercatorPredicate = (geometry: string): string =>
  `${geometry} IS NOT NULL AND ST_XMin(${geometry}) >= -180 AND ST_XMax(${geometry}) <= 180 AND ST_YMin(${geometry}) > -85.06 AND ST_YMax(${geometry}) < 85.06`;
