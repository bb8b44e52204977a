import { layerTableName, MAX_TABLE_NAME } from './layer-name.js';
import { libpqConnectionString, quoteIdent } from '#shared';

describe('layer table names', () => {
  it('derives the table from the resource id, HDX style', () => {
    expect(layerTableName('3f1c9a2e-1b2c-4d5e-8f90-123456789abc')).toBe('pre_3f1c9a2e_1b2c_4d5e_8f90_123456789abc');
  });

  it('turns anything but letters and digits into _', () => {
    expect(layerTableName('Abc"; DROP TABLE x; --')).toBe('pre_abc___drop_table_x____');
  });

  it('adds the layer of a multi-layer upload', () => {
    expect(layerTableName('r1', 'roads/main.shp:Main Roads')).toBe('pre_r1__roads_main_shp_main_roads');
  });

  it('cuts long names and keeps them apart with a hash', () => {
    const a = layerTableName('x'.repeat(200));
    const b = layerTableName('x'.repeat(199) + 'y');
    expect(a.length).toBeLessThanOrEqual(MAX_TABLE_NAME);
    expect(b.length).toBeLessThanOrEqual(MAX_TABLE_NAME);
    expect(a).not.toBe(b);
  });

  it('quotes identifiers', () => {
    expect(quoteIdent('a"b')).toBe('"a""b"');
  });

  it('builds a quoted libpq connection string from a URL', () => {
    expect(libpqConnectionString('postgres://geo:p%27w%5Cd@127.0.0.1:5433/db', { schemas: 'layers' })).toBe(
      "host='127.0.0.1' port='5433' dbname='db' user='geo' password='p\\'w\\\\d' schemas='layers'",
    );
  });
});
