import { csvFileNames, csvStem } from './csv-file-names.js';

describe('CSV file names', () => {
  it('keeps plain names and replaces quotes, spaces and slashes', () => {
    expect(csvStem('parcels')).toBe('parcels');
    expect(csvStem('My "odd" table/2024')).toBe('My_odd_table_2024');
    expect(csvStem('../../etc/passwd')).toBe('etc_passwd');
    expect(csvStem('Ação Básica')).toBe('Acao_Basica');
  });

  it('names a table of nothing but symbols', () => {
    expect(csvStem('"?"')).toBe('table');
  });

  it('makes names unique, ignoring case, and never README', () => {
    expect(csvFileNames(['a b', 'a/b', 'A_B', 'README', 'x'])).toEqual(['a_b.csv', 'a_b_2.csv', 'A_B_3.csv', 'README_2.csv', 'x.csv']);
  });

  it('bounds the length', () => {
    expect(csvFileNames(['t'.repeat(500)])[0]).toBe(`${'t'.repeat(100)}.csv`);
  });
});
