import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import gdal from 'gdal-async';
import { nativeTableCsv, tableCsv } from '../../csv/table-csv.js';
import type { NativeCsv, SourceTable, TableSource } from '../../table-source.js';
import { GdalOpener } from './gdal-opener.js';
import { gpkgNativeCsv } from './gpkg-native-csv.js';

/**
 * Rows of every kind the native path writes: NULLs, quotes, commas and line breaks, reals, dates, timestamps with and
 * without milliseconds. (Not here, as both native ways write them otherwise than the rows path: reals that SQLite's
 * printf writes with an exponent and JavaScript without, or the other way round.)
 */
const ROWS: Record<string, string | number | null>[] = [
  { name: 'a, "b"', value: 0.1 + 0.2, day: '2020-01-02', seen: '2020-09-13T12:27:17Z' },
  { name: 'two\r\nlines', value: 1e21, day: null, seen: '2020-09-13T12:27:17Z' },
  { name: null, value: null, day: '1999-12-31', seen: null },
  { name: 'São Paulo', value: -1234.5678, day: '2001-02-03', seen: '2001-02-03T04:05:06.789' },
  { name: '', value: 100, day: null, seen: null },
];
/** Layers by declared type: the first two are written by the CSV driver's WKT moved last, the others through OGR SQL. */
const LAYERS: { name: string; type: number; geometries?: (string | null)[] }[] = [
  { name: 'points', type: gdal.wkbPoint, geometries: ['POINT (1 2)', null, 'POINT EMPTY', 'POINT (-0.5 1e-3)', 'POINT (180 -90)'] },
  {
    name: 'areas',
    type: gdal.wkbMultiPolygon,
    geometries: ['MULTIPOLYGON (((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))', 'MULTIPOLYGON EMPTY', null, 'MULTIPOLYGON (((0 0,2 0,2 2,0 0)))', null],
  },
  { name: 'mixed', type: gdal.wkbUnknown, geometries: ['MULTIPOINT ((1 2),(3 4))', null, 'POLYGON ((0 0,1 0,1 1,0 0))', 'POINT EMPTY', 'POINT (1 2)'] },
  {
    name: 'solid',
    type: gdal.wkbUnknown | gdal.wkb25DBit,
    geometries: ['POINT (1 2 3)', 'LINESTRING (1 2 3,4 5 6)', null, 'POINT (0.5 0.25 -1)', 'POINT (1 1 1)'],
  },
  { name: 'plain', type: gdal.wkbNone },
];

function layer(dataset: gdal.Dataset, name: string, type: number, geometries?: (string | null)[]): void {
  const created = dataset.layers.create(name, geometries ? gdal.SpatialReference.fromEPSG(4326) : null, geometries ? type : gdal.wkbNone);
  const fields = { name: gdal.OFTString, value: gdal.OFTReal, day: gdal.OFTDate, seen: gdal.OFTDateTime };
  for (const [field, fieldType] of Object.entries(fields)) created.fields.add(new gdal.FieldDefn(field, fieldType));
  for (const [index, row] of ROWS.entries()) {
    const feature = new gdal.Feature(created);
    for (const [field, value] of Object.entries(row)) if (value !== null) feature.fields.set(field, value);
    const wkt = geometries?.[index];
    if (wkt) feature.setGeometry(gdal.Geometry.fromWKT(wkt));
    created.features.add(feature);
  }
}

describe('GeoPackage native CSV against the rows path', () => {
  let folder: string;
  let file: string;
  let source: TableSource;
  let tables: SourceTable[];
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'geojobs-gpkg-native-'));
    file = join(folder, 'several.gpkg');
    const dataset = gdal.drivers.get('GPKG').create(file);
    for (const { name, type, geometries } of LAYERS) layer(dataset, name, type, geometries);
    dataset.close();
    source = await new GdalOpener({ maxEntries: 10, maxUnpackedBytes: 1e9, maxRatio: 100 }).open(file, folder, new AbortController().signal);
    tables = await source.tables();
  });
  afterAll(async () => {
    await source.close();
    await rm(folder, { recursive: true, force: true });
  });

  const bytesOf = async (table: SourceTable, native: NativeCsv): Promise<Buffer> => {
    const slice = async (index: number) => {
      const path = join(folder, `${table.name}-${index}.csv`);
      await native.write(index, path);
      return path;
    };
    return buffer(nativeTableCsv(table, native, 'utf-8', slice, () => undefined).stream);
  };
  const rowsPath = (table: SourceTable): Promise<Buffer> => buffer(tableCsv(source, table, 'utf-8', new AbortController().signal, () => undefined).stream);

  it('writes every table byte for byte as the rows path: WKT moved last, through OGR SQL, or no geometry', async () => {
    expect(tables.map((table) => table.name)).toEqual(LAYERS.map((layer) => layer.name));
    for (const table of tables) {
      const native = (await source.nativeCsv!(table))!;
      expect([table.name, native.wktFirst]).toEqual([table.name, ['points', 'areas'].includes(table.name)]);
      const expected = (await rowsPath(table)).toString();
      expect(expected).toContain('"two\r\nlines",1e+21');
      expect(expected).toContain(',2001-02-03T04:05:06.789');
      expect((await bytesOf(table, native)).toString()).toBe(expected);
    }
  });

  it('writes the same bytes in slices of 2 rows', async () => {
    for (const [index, type] of [gdal.wkbPoint, gdal.wkbMultiPolygon, gdal.wkbUnknown].entries()) {
      const native = (await gpkgNativeCsv(file, { name: LAYERS[index].name, fid: 'fid', fields: ROWS_FIELDS, geometry: 'geom', geometryType: type }, 2))!;
      expect(native.slices).toEqual([2, 2, 1]);
      expect((await bytesOf(tables[index], native)).toString()).toBe((await rowsPath(tables[index])).toString());
    }
  });
});

const ROWS_FIELDS = [
  { name: 'name', type: 'string' },
  { name: 'value', type: 'real' },
  { name: 'day', type: 'date' },
  { name: 'seen', type: 'dateTime' },
];
