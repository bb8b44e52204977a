import gdal from 'gdal-async';
import { gpkgColumnText, gpkgSliceHeader, gpkgSliceSql, type GpkgTable } from './gpkg-native-csv.js';

const table: GpkgTable = {
  name: 'Lugares "SP"',
  fid: 'fid',
  fields: [
    { name: 'code', type: 'integer64' },
    { name: 'value', type: 'real' },
    { name: 'day', type: 'date' },
    { name: 'seen', type: 'dateTime' },
    { name: 'nome "da" cidade', type: 'string' },
  ],
  geometry: 'geom',
  geometryType: gdal.wkbPoint,
};

describe('GeoPackage native CSV', () => {
  it('selects the fid, each field as text and the geometry last, over a fid range', () => {
    const sql = gpkgSliceSql(table, 50_001, 100_001)!;
    expect(sql).toMatch(/^SELECT CAST\("fid" AS TEXT\) AS c0, .* AS c5, "geom" FROM "Lugares ""SP""" WHERE "fid" >= 50001 AND "fid" < 100001 ORDER BY "fid"$/);
    expect(sql).toContain(`"nome ""da"" cidade" || '' AS c5`);
    expect(gpkgSliceSql(table, 1)).toMatch(/WHERE "fid" >= 1 ORDER BY "fid"$/);
    expect(gpkgSliceHeader(table)).toBe('WKT,c0,c1,c2,c3,c4,c5\r\n');
    expect(gpkgSliceHeader({ ...table, geometryType: gdal.wkbMultiPoint })).toBe('c0,c1,c2,c3,c4,c5,g\r\n');
    expect(gpkgSliceHeader({ ...table, geometry: undefined })).toBe('c0,c1,c2,c3,c4,c5\r\n');
  });

  it('leaves a table with a binary, time or list field to the rows path', () => {
    for (const type of ['binary', 'time', 'integerList', 'stringList']) {
      expect(gpkgColumnText('x', type)).toBeUndefined();
      expect(gpkgSliceSql({ ...table, fields: [...table.fields, { name: 'x', type }] }, 1)).toBeUndefined();
    }
  });

  it('writes values as the rows path does, in GDAL’s own SQLite: reals round-trip, timestamps without a .000 fraction, NULL as NULL', () => {
    const dataset = gdal.drivers.get('GPKG').create('/vsimem/gpkg-native-csv.gpkg');
    try {
      const layer = dataset.layers.create('t', null, gdal.wkbNone);
      const columns = { i: gdal.OFTInteger64, r: gdal.OFTReal, d: gdal.OFTDate, ts: gdal.OFTDateTime, s: gdal.OFTString };
      for (const [name, type] of Object.entries(columns)) layer.fields.add(new gdal.FieldDefn(name, type));
      const reals = [0.1 + 0.2, 0.5, 1e21, 1 / 3, 123456789.123, -2.5e-7, 100, 5e-324];
      const rows: Record<string, string | number>[] = [
        { i: 9007199254740991, r: reals[0], d: '2020-01-02', ts: '2020-09-13T12:27:17Z', s: 'a "b", c' },
        { i: -7, r: reals[1], d: '1999-12-31', ts: '2020-09-13T12:27:17.500Z', s: '' },
        { i: 0, r: reals[2], ts: '2020-09-13T12:27:17' },
        {},
        ...reals.slice(3).map((real) => ({ i: 1, r: real })),
      ];
      for (const row of rows) {
        const feature = new gdal.Feature(layer);
        for (const [name, value] of Object.entries(row)) feature.fields.set(name, value);
        layer.features.add(feature);
      }
      const select = layer.fields.map((field) => `${gpkgColumnText(field.name, field.type)!} AS ${field.name}`);
      const result = dataset.executeSQL(`SELECT ${select.join(', ')} FROM t`);
      const read = result.features.map((feature) => feature.fields.toObject());
      expect(read.slice(0, 4)).toEqual([
        { i: '9007199254740991', r: '0.30000000000000004', d: '2020-01-02', ts: '2020-09-13T12:27:17Z', s: 'a "b", c' },
        { i: '-7', r: '0.5', d: '1999-12-31', ts: '2020-09-13T12:27:17.500Z', s: '' },
        { i: '0', r: '1e+21', d: null, ts: '2020-09-13T12:27:17', s: null },
        { i: null, r: null, d: null, ts: null, s: null },
      ]);
      // every real reads back as the value written, in the fewest digits for most
      expect(read.map((row) => (row.r === null ? null : Number(row.r)))).toEqual([reals[0], reals[1], reals[2], null, ...reals.slice(3)]);
      expect(read.slice(4).map((row) => row.r)).toEqual(['0.3333333333333333', '123456789.123', '-2.5e-07', '100', '4.94065645841247e-324']);
    } finally {
      dataset.close();
      gdal.vsimem.release('/vsimem/gpkg-native-csv.gpkg');
    }
  });
});
