import { DatabaseSync } from 'node:sqlite';
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
};

describe('GeoPackage native CSV', () => {
  it('selects the fid, each field as text and the geometry last, over a fid range', () => {
    const sql = gpkgSliceSql(table, 50_001, 100_001)!;
    expect(sql).toMatch(/^SELECT CAST\("fid" AS TEXT\) AS c0, .* AS c5, "geom" FROM "Lugares ""SP""" WHERE "fid" >= 50001 AND "fid" < 100001 ORDER BY "fid"$/);
    expect(sql).toContain(`"nome ""da"" cidade" || '' AS c5`);
    expect(gpkgSliceSql(table, 1)).toMatch(/WHERE "fid" >= 1 ORDER BY "fid"$/);
    expect(gpkgSliceHeader(table)).toBe('c0,c1,c2,c3,c4,c5,g\r\n');
    expect(gpkgSliceHeader({ ...table, geometry: undefined })).toBe('c0,c1,c2,c3,c4,c5\r\n');
  });

  it('leaves a table with a binary, time or list field to the rows path', () => {
    for (const type of ['binary', 'time', 'integerList', 'stringList']) {
      expect(gpkgColumnText('x', type)).toBeUndefined();
      expect(gpkgSliceSql({ ...table, fields: [...table.fields, { name: 'x', type }] }, 1)).toBeUndefined();
    }
  });

  it('writes values as the rows path does: reals round-trip, timestamps without a .000 fraction, NULL as NULL', () => {
    // the expressions are plain SQLite: run them on SQLite itself
    const db = new DatabaseSync(':memory:');
    db.exec('CREATE TABLE t (i INTEGER, r REAL, d DATE, ts DATETIME, s TEXT)');
    const insert = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?, ?)');
    insert.run(9007199254740991, 0.1 + 0.2, '2020-01-02', '2020-09-13T12:27:17.000Z', 'a "b", c');
    insert.run(-7, 0.5, '1999-12-31', '2020-09-13T12:27:17.500Z', '');
    insert.run(0, 1e21, null, '2020-09-13T12:27:17.000', null);
    insert.run(null, null, null, null, null);
    insert.run(1, 123456789.123, null, null, null);
    const select = ['i', 'r', 'd', 's'].map((name, index) => `${gpkgColumnText(name, ['integer64', 'real', 'date', 'string'][index])!} AS ${name}`);
    const rows = db.prepare(`SELECT ${select.join(', ')}, ${gpkgColumnText('ts', 'dateTime')!} AS ts FROM t`).all();
    expect(rows).toEqual([
      { i: '9007199254740991', r: '0.30000000000000004', d: '2020-01-02', s: 'a "b", c', ts: '2020-09-13T12:27:17Z' },
      { i: '-7', r: '0.5', d: '1999-12-31', s: '', ts: '2020-09-13T12:27:17.500Z' },
      { i: '0', r: '1e+21', d: null, s: null, ts: '2020-09-13T12:27:17' },
      { i: null, r: null, d: null, s: null, ts: null },
      { i: '1', r: '123456789.123', d: null, s: null, ts: null },
    ]);
    for (const row of rows) if (row.r !== null) expect(String(Number(row.r))).toBe(row.r);
    db.close();
  });
});
