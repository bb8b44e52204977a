import { planShapefileParts, shapefileBaseName, shapefileFieldNames, shapefileKindOf, shpRecordBytes, truncateUtf8 } from './shapefile-rules.js';

describe('shapefile field names', () => {
  const names = (input: string[]) => shapefileFieldNames(input).map((mapping) => mapping.shapefile);

  it('keeps names of at most 10 characters', () => {
    expect(names(['name', 'population'])).toEqual(['name', 'population']);
  });

  it('cuts a long name to 10 characters when the cut is unique', () => {
    expect(names(['name', 'population_total'])).toEqual(['name', 'population']);
  });

  it('numbers long names whose cuts clash, in field order', () => {
    expect(names(['population_total', 'population_urban', 'id'])).toEqual(['populatio1', 'populatio2', 'id']);
  });

  it('numbers a long name whose cut is another field’s name (compared without case)', () => {
    expect(names(['Population', 'population_total'])).toEqual(['Population', 'populatio1']);
  });

  it('skips numbers already taken by a field, and uses two digits past 9', () => {
    const many = Array.from({ length: 11 }, (_, index) => `measurement_${index}`);
    const result = names(['measureme1', ...many]);
    expect(result[0]).toBe('measureme1');
    expect(result.slice(1, 3)).toEqual(['measureme2', 'measureme3']);
    expect(result[10]).toBe('measurem11');
    expect(new Set(result.map((name) => name.toLowerCase())).size).toBe(result.length);
  });

  it('cuts by UTF-8 bytes without splitting a character', () => {
    expect(truncateUtf8('éééééé', 10)).toBe('ééééé');
    expect(truncateUtf8('aéééééé', 10)).toBe('aéééé');
    expect(names(['población_total'])).toEqual(['población']); // 9 characters, 10 bytes
  });
});

describe('geometry type grouping', () => {
  it.each([
    ['POINT', 'points'],
    ['MULTIPOINT', 'points'],
    ['POINTM', 'points'],
    ['POINT25D', 'points'],
    ['LINESTRING', 'lines'],
    ['MULTILINESTRING', 'lines'],
    ['POLYGON', 'polygons'],
    ['MULTIPOLYGONZ', 'polygons'],
    [null, 'none'],
    ['GEOMETRYCOLLECTION', undefined],
    ['CIRCULARSTRING', undefined],
  ])('%s goes to %s', (type, kind) => {
    expect(shapefileKindOf(type)).toBe(kind);
  });
});

describe('split planning', () => {
  it('keeps a layer under the limit in one part', () => {
    expect(planShapefileParts({ features: 100, maxShpRecordBytes: 28, dbfRecordBytes: 20, fields: 2 }, 1_000_000)).toEqual({ parts: 1, perPart: 100 });
  });

  it('splits by the .shp when its records are the larger', () => {
    // (4096 - 100) / 28 = 142 points a part
    expect(planShapefileParts({ features: 500, maxShpRecordBytes: 28, dbfRecordBytes: 10, fields: 1 }, 4_096)).toEqual({ parts: 4, perPart: 142 });
  });

  it('splits by the .dbf when its records are the larger', () => {
    // (4096 - 97 - 1) / 100 = 39 records a part
    expect(planShapefileParts({ features: 100, maxShpRecordBytes: 28, dbfRecordBytes: 100, fields: 2 }, 4_096)).toEqual({ parts: 3, perPart: 39 });
  });

  it('refuses a limit smaller than one feature', () => {
    expect(() => planShapefileParts({ features: 1, maxShpRecordBytes: 5_000, dbfRecordBytes: 10, fields: 1 }, 4_096)).toThrow(RangeError);
  });

  it('sizes .shp records as the format lays them out', () => {
    expect(shpRecordBytes('points', false, 1, 1, false)).toBe(28);
    expect(shpRecordBytes('points', true, 1, 3, false)).toBe(8 + 40 + 48);
    expect(shpRecordBytes('polygons', false, 2, 10, false)).toBe(8 + 44 + 8 + 160);
  });

  it('names parts only when there are several', () => {
    expect(shapefileBaseName('roads', 'lines', 1, 1)).toBe('roads_lines');
    expect(shapefileBaseName('roads', 'points', 2, 3)).toBe('roads_points_part2');
    expect(shapefileBaseName('roads', 'none', 1, 1)).toBe('roads_nogeometry');
  });
});
