import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import gdal from 'gdal-async';
import pg from 'pg';

/**
 * What the package tests clip: boundaries (a triangle, a square nested in it, a square far east), a previewed layer of
 * points and lines around them, and a small GeoTIFF over the triangle. Known by construction, so a test can say which
 * features belong in a package and which pixels must be nodata.
 */

/** The triangle y <= x over [0, 10]²: its envelope holds as many pixels outside it as inside. */
export const TRIANGLE = [
  [0, 0],
  [10, 0],
  [10, 10],
  [0, 0],
];

export const BOUNDARIES_FILE = {
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', properties: { code: 'TRI', title: 'Triangle Land', level: '0' }, geometry: { type: 'Polygon', coordinates: [TRIANGLE] } },
    {
      type: 'Feature',
      properties: { code: 'INNER', title: 'Inner Province', level: '1' },
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [6, 1],
            [8, 1],
            [8, 3],
            [6, 3],
            [6, 1],
          ],
        ],
      },
    },
    {
      type: 'Feature',
      properties: { code: 'EAST', title: 'East Land', level: '0' },
      geometry: {
        type: 'MultiPolygon',
        coordinates: [
          [
            [
              [20, 0],
              [30, 0],
              [30, 10],
              [20, 10],
              [20, 0],
            ],
          ],
        ],
      },
    },
  ],
};

/** Features of the layer: name, WKT, and whether they reach into the triangle. */
export const LAYER_FEATURES: { name: string; wkt: string; inTriangle: boolean }[] = [
  { name: 'p_in_1', wkt: 'POINT(5 1)', inTriangle: true },
  { name: 'p_in_2', wkt: 'POINT(9 2)', inTriangle: true },
  { name: 'p_in_3', wkt: 'POINT(7 6)', inTriangle: true },
  { name: 'p_out_west', wkt: 'POINT(1 5)', inTriangle: false },
  { name: 'p_out_east', wkt: 'POINT(25 5)', inTriangle: false },
  { name: 'l_in', wkt: 'LINESTRING(3 1, 8 2)', inTriangle: true },
  { name: 'l_cross', wkt: 'LINESTRING(5 0.5, 5 8)', inTriangle: true },
  { name: 'l_out', wkt: 'LINESTRING(0 5, 2 9)', inTriangle: false },
];

export const LAYER_ID = 'pre_roads_0';

/** A previewed layer as geo-service leaves one: a table of the layers schema the layers reader may SELECT. */
export async function createLayer(adminUrl: string): Promise<void> {
  const db = new pg.Client({ connectionString: adminUrl });
  await db.connect();
  try {
    await db.query(`CREATE TABLE layers.${LAYER_ID} (ogc_fid serial PRIMARY KEY, name text, wkb_geometry geometry(Geometry, 4326))`);
    for (const feature of LAYER_FEATURES) {
      await db.query(`INSERT INTO layers.${LAYER_ID} (name, wkb_geometry) VALUES ($1, ST_GeomFromText($2, 4326))`, [feature.name, feature.wkt]);
    }
    await db.query(`GRANT SELECT ON layers.${LAYER_ID} TO geojobs_layers_reader`);
  } finally {
    await db.end();
  }
}

/** The raster: 100 × 100 pixels of 0.1° over [0, 10]², Byte values 1 + (column + row) % 250 (never 0, the nodata). */
export const RASTER = { size: 100, pixel: 0.1, value: (column: number, row: number) => 1 + ((column + row) % 250) };

export async function writeFiles(storageRoot: string): Promise<void> {
  const boundaries = join(storageRoot, 'boundaries', 'test.geojson');
  await mkdir(dirname(boundaries), { recursive: true });
  await writeFile(boundaries, JSON.stringify(BOUNDARIES_FILE));

  const rasterPath = join(storageRoot, 'sources', 'raster.tif');
  await mkdir(dirname(rasterPath), { recursive: true });
  const dataset = gdal.open(rasterPath, 'w', 'GTiff', RASTER.size, RASTER.size, 1, gdal.GDT_Byte);
  dataset.srs = gdal.SpatialReference.fromEPSG(4326);
  // north up: the first row is y = 10
  dataset.geoTransform = [0, RASTER.pixel, 0, 10, 0, -RASTER.pixel];
  const values = new Uint8Array(RASTER.size * RASTER.size);
  for (let row = 0; row < RASTER.size; row++)
    for (let column = 0; column < RASTER.size; column++) values[row * RASTER.size + column] = RASTER.value(column, row);
  dataset.bands.get(1).pixels.write(0, 0, RASTER.size, RASTER.size, values);
  dataset.close();

  // a "GeoTIFF" that is not one, for the failing processor
  await writeFile(join(storageRoot, 'sources', 'broken.tif'), 'this is not a GeoTIFF');
}

/** A raster over East Land large enough that warping it takes seconds: a processor to cancel while it runs. */
export function writeLargeRaster(storageRoot: string): void {
  const size = 8_000;
  const dataset = gdal.open(join(storageRoot, 'sources', 'large.tif'), 'w', 'GTiff', size, size, 1, gdal.GDT_Byte);
  dataset.srs = gdal.SpatialReference.fromEPSG(4326);
  dataset.geoTransform = [20, 10 / size, 0, 10, 0, -10 / size];
  const row = new Uint8Array(size).map((_, column) => 1 + (column % 250));
  const band = dataset.bands.get(1);
  for (let y = 0; y < size; y++) band.pixels.write(0, y, size, 1, row);
  dataset.close();
}
