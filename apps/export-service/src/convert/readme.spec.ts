import { convertReadme } from './readme.js';

describe('convertReadme', () => {
  it('lists each table file with its rows, columns and types, the engine and charsets', () => {
    const text = convertReadme({
      source: 'https://example.org/cadastre.gpkg',
      engine: 'GeoPackage',
      sourceCharset: 'UTF-8',
      charset: 'latin1',
      createdAt: new Date('2026-01-02T03:04:05Z'),
      tables: [
        {
          name: 'lotes urbanos',
          file: 'lotes_urbanos.csv',
          rows: 12,
          columns: [
            { name: 'fid', type: 'Integer64', kind: 'integer' },
            { name: 'geom', type: 'Multi Polygon', kind: 'geometry' },
          ],
        },
      ],
    });
    expect(text.split('\r\n')).toEqual(
      expect.arrayContaining([
        'Engine:         GeoPackage',
        'Source charset: UTF-8',
        'CSV charset:    latin1',
        'lotes_urbanos.csv',
        '  table:   lotes urbanos',
        '  rows:    12',
        '  columns: 2',
        '    fid  Integer64 (integer)',
        '    geom  Multi Polygon (geometry)',
      ]),
    );
  });
});
