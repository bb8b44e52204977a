import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { LocalStorage } from '#shared';
import { StorageSink } from './export-sink.js';
import { GdalFileLayer } from './gdal-file-layer.js';
import { renderReadme } from './readme.js';
import { writeLayer } from './vector-writers.js';

/** A GeoJSON of mixed geometries and a long field name, as a dataset's resource may be. */
const MIXED = {
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', properties: { population_total: 1, population_urban: 0.5, name: 'a' }, geometry: { type: 'Point', coordinates: [1, 2] } },
    {
      type: 'Feature',
      properties: { population_total: 2, population_urban: 1.5, name: 'b' },
      geometry: {
        type: 'MultiPoint',
        coordinates: [
          [1, 2],
          [3, 4],
        ],
      },
    },
    {
      type: 'Feature',
      properties: { population_total: 3, population_urban: 2.5, name: 'x'.repeat(300) },
      geometry: {
        type: 'LineString',
        coordinates: [
          [0, 0],
          [1, 1],
        ],
      },
    },
    { type: 'Feature', properties: { population_total: 4, population_urban: 3.5, name: 'd' }, geometry: null },
  ],
};

describe('writers over a GIS file (what a dataset export converts)', () => {
  let folder: string;
  let layer: GdalFileLayer;
  const signal = new AbortController().signal;

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'geojobs-formats-'));
    await writeFile(join(folder, 'mixed.geojson'), JSON.stringify(MIXED));
    layer = await GdalFileLayer.open(join(folder, 'mixed.geojson'), { name: 'mixed' });
  });

  afterAll(() => layer.close());

  it('writes CSV, shapefiles per geometry type, GeoPackage and GeoJSON into a storage folder, each reported', async () => {
    const storage = new LocalStorage(join(folder, 'storage'));
    const sink = new StorageSink(storage, 'out/');
    const options = { scratchDir: join(folder, 'scratch'), signal, shapefileMaxBytes: 2 ** 31 };
    const files = [];
    for (const format of ['csv', 'shp', 'gpkg', 'geojson'] as const) files.push(...(await writeLayer(layer, format, sink, options)));
    expect(files.map((file) => [file.name, file.format, file.features])).toEqual([
      ['mixed.csv', 'csv', 4],
      ['mixed_points.shp', 'shp', 2],
      ['mixed_lines.shp', 'shp', 1],
      ['mixed_nogeometry.dbf', 'shp', 1],
      ['mixed.gpkg', 'gpkg', 4],
      ['mixed.geojson', 'geojson', 4],
    ]);
    const written = (await readdir(join(folder, 'storage', 'out'))).sort();
    expect(written).toEqual(
      expect.arrayContaining(['mixed.csv', 'mixed_points.shp', 'mixed_points.cpg', 'mixed_lines.dbf', 'mixed_nogeometry.dbf', 'mixed.gpkg']),
    );

    const csv = await readFile(join(folder, 'storage', 'out', 'mixed.csv'), 'utf8');
    expect(csv.split('\n')[0]).toBe('WKT,population_total,population_urban,name');
    expect(csv).toContain('"MULTIPOINT ((1 2),(3 4))",2,1.5,b');

    const points = gdal.open(join(folder, 'storage', 'out', 'mixed_points.shp'));
    expect(points.layers.get(0).fields.getNames()).toEqual(['populatio1', 'populatio2', 'name']);
    expect(points.layers.get(0).features.map((feature) => feature.fields.get('populatio1'))).toEqual([1, 2]);
    points.close();

    const readme = renderReadme({ title: 'mixed', exportedAt: new Date(), files });
    expect(readme).toContain('population_total → populatio1, population_urban → populatio2');
    expect(readme).toContain('name: 1 value longer than 254 bytes cut to 254');
  });
});
