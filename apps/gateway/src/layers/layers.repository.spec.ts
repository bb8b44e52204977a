import type { PoolClient } from 'pg';
import { TileStatements, tileStatement, type LayerTable } from './layers.repository.js';

const layer = (columns: string[]): LayerTable => ({
  layerId: 'pre_r1',
  oid: 16_400,
  geometryColumn: 'wkb_geometry',
  geometryType: 'POINT',
  srid: 4326,
  columns: [
    { name: 'ogc_fid', dataType: 'integer', udtName: 'int4' },
    { name: 'wkb_geometry', dataType: 'USER-DEFINED', udtName: 'geometry' },
    ...columns.map((name) => ({ name, dataType: 'text', udtName: 'text' })),
  ],
});

describe('tileStatement', () => {
  it('names a statement after its text: the same on every call, another for another limit or other columns', () => {
    const statement = tileStatement(layer(['name']), 20_000);
    expect(tileStatement(layer(['name']), 20_000)).toEqual(statement);
    expect(statement.name).toMatch(/^[a-z0-9_]{1,63}$/);
    expect(statement.text).toContain('LIMIT 20000');
    expect(statement.text).toContain(`'ogc_fid'`);
    expect(statement.text).toContain('g."name"');
    expect(tileStatement(layer(['name']), null).name).not.toBe(statement.name);
    expect(tileStatement(layer(['name']), null).text).not.toContain('LIMIT');
    expect(tileStatement(layer(['name', 'kind']), 20_000).name).not.toBe(statement.name);
  });
});

describe('TileStatements', () => {
  it("builds a layer's statement once per limit", () => {
    const statements = new TileStatements();
    const table = layer(['name']);
    expect(statements.of(table, 20_000)).toBe(statements.of(table, 20_000));
    expect(statements.of(table, null)).not.toBe(statements.of(table, 20_000));
  });

  it('says when a connection has prepared its share of statements, so that it is closed rather than grow', () => {
    const statements = new TileStatements();
    const [client, other] = [{}, {}] as PoolClient[];
    for (let index = 0; index < 99; index++) expect(statements.prepare(client, `s${index}`)).toBe(false);
    expect(statements.prepare(client, 's0')).toBe(false); // already prepared there
    expect(statements.prepare(other, 's99')).toBe(false);
    expect(statements.prepare(client, 's99')).toBe(true);
  });
});
