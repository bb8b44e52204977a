import { renderReadme } from './readme.js';

describe('README of an export bundle', () => {
  it('lists every file with its layer, format, features, fields, CRS, notes and the time of export', () => {
    const text = renderReadme({
      title: 'Export roads',
      exportedAt: new Date('2026-01-02T03:04:05Z'),
      files: [
        { name: 'roads.csv', companions: [], layer: 'roads', format: 'csv', features: 3, fields: ['name'], crs: 'EPSG:4326', notes: [] },
        {
          name: 'roads_lines.shp',
          companions: ['roads_lines.dbf', 'roads_lines.cpg'],
          layer: 'roads',
          format: 'shp',
          features: 3,
          fields: ['populatio1'],
          crs: 'EPSG:4326',
          notes: ['field names cut to the 10 characters a DBF allows: population_total → populatio1'],
        },
      ],
    });
    expect(text).toContain('Exported at 2026-01-02T03:04:05.000Z');
    expect(text).toContain('roads.csv\n  layer:    roads\n  format:   CSV');
    expect(text).toContain('  features: 3\n  fields:   name\n  CRS:      EPSG:4326');
    expect(text).toContain('roads_lines.shp\n  with:     roads_lines.dbf, roads_lines.cpg');
    expect(text).toContain('note:     field names cut to the 10 characters a DBF allows: population_total → populatio1');
  });
});
