import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import type { SourceValue } from '../../table-source.js';
import { GdalTableSource } from './gdal-table-source.js';

/** A layer of one point feature with a date-time and a time holding milliseconds, and a plain field beside them. */
function writeLayer(dataset: gdal.Dataset, name: string): void {
  const layer = dataset.layers.create(name, gdal.SpatialReference.fromEPSG(4326), gdal.wkbPoint);
  layer.fields.add(new gdal.FieldDefn('seen "at"', gdal.OFTDateTime));
  layer.fields.add(new gdal.FieldDefn('label', gdal.OFTString));
  layer.fields.add(new gdal.FieldDefn('clock', gdal.OFTTime));
  const feature = new gdal.Feature(layer);
  feature.fields.set('seen "at"', '2024-05-06T07:08:09.123Z');
  feature.fields.set('label', 'São Paulo');
  feature.fields.set('clock', '23:59:58.5');
  feature.setGeometry(gdal.Geometry.fromWKT('POINT (1 2)'));
  layer.features.add(feature);
}

describe('GDAL tables read row by row', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'geojobs-gdal-rows-'));
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  const rowsOf = async (path: string, engine: string): Promise<Record<string, SourceValue[][]>> => {
    const source = new GdalTableSource([gdal.open(path)], engine, 'UTF-8');
    const read: Record<string, SourceValue[][]> = {};
    try {
      for (const table of await source.tables()) {
        read[table.name] = [];
        for await (const row of source.rows(table, new AbortController().signal)) read[table.name].push(row);
      }
    } finally {
      await source.close();
    }
    return read;
  };

  // (SQLite: GDAL 3.6's FileGDB driver itself reads date-times to the second, and has no time type)
  it('keeps the milliseconds of date-times and times, whatever the table and column are called', async () => {
    const path = join(folder, 'times.sqlite');
    const dataset = gdal.drivers.get('SQLite').create(path);
    writeLayer(dataset, 'odd "name" \\ here');
    dataset.close();
    expect(await rowsOf(path, 'SQLite/SpatiaLite')).toEqual({
      'odd "name" \\ here': [[1, '2024-05-06T07:08:09.123Z', 'São Paulo', '23:59:58.500', 'POINT (1 2)']],
    });
  });

  it('reads a table whose name OGR SQL cannot write (a trailing backslash), its date-times to the second', async () => {
    const path = join(folder, 'backslash.sqlite');
    const dataset = gdal.drivers.get('SQLite').create(path);
    writeLayer(dataset, 'ends with \\');
    dataset.close();
    expect(await rowsOf(path, 'SQLite/SpatiaLite')).toEqual({ 'ends with \\': [[1, '2024-05-06T07:08:09Z', 'São Paulo', '23:59:58', 'POINT (1 2)']] });
  });
});
