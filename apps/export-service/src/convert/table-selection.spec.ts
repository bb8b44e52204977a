import { selectTables } from './table-selection.js';
import type { SourceTable } from './table-source.js';

const table = (name: string): SourceTable => ({ name, columns: [{ name: 'id', type: 'Integer', kind: 'integer' }] });
const tables = ['roads', 'rivers', 'Cidade São Paulo'].map(table);

describe('selectTables', () => {
  it('takes every table when none is named', () => {
    expect(selectTables(tables).map((t) => t.name)).toEqual(['roads', 'rivers', 'Cidade São Paulo']);
  });

  it('takes the named ones in the database order', () => {
    expect(selectTables(tables, ['Cidade São Paulo', 'roads']).map((t) => t.name)).toEqual(['roads', 'Cidade São Paulo']);
  });

  it('fails on a name the database does not hold, naming the tables it holds', () => {
    expect(() => selectTables(tables, ['roads', 'lakes'])).toThrow('the database has no table "lakes"; its tables are "roads", "rivers", "Cidade São Paulo"');
  });

  it('fails on a database of too many tables when none is named, naming the count', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => table(`t${i}`));
    expect(() => selectTables(many)).toThrow('the database holds 10000 tables, over the limit of 1000 for one export: name the ones you want in "tables"');
    expect(selectTables(many, ['t9999']).map((t) => t.name)).toEqual(['t9999']);
  });

  it('bounds the list of tables in a message', () => {
    const many = Array.from({ length: 120 }, (_, i) => table(`t${i}`));
    expect(() => selectTables(many, ['nope'])).toThrow(/"t49" and 70 more$/);
  });

  it('fails on a database of no tables', () => {
    expect(() => selectTables([])).toThrow('the database holds no tables');
  });
});
