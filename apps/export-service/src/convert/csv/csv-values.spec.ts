import { csvValue } from './csv-values.js';

describe('csvValue', () => {
  it('writes NULL as an empty field, whatever the kind', () => {
    expect(csvValue(null, 'integer')).toBe('');
    expect(csvValue(null, 'text')).toBe('');
  });

  it('writes dates as YYYY-MM-DD and timestamps as ISO 8601', () => {
    expect(csvValue(new Date(Date.UTC(1999, 11, 31)), 'date')).toBe('1999-12-31');
    expect(csvValue(new Date(Date.UTC(2024, 1, 29, 13, 5, 9, 250)), 'timestamp')).toBe('2024-02-29T13:05:09.250Z');
    expect(csvValue(new Date(Date.UTC(812, 0, 1)), 'date')).toBe('0812-01-01');
  });

  it('writes binary as base64 and text BLOBs as text', () => {
    expect(csvValue(Buffer.from([0, 1, 2, 250]), 'binary')).toBe('AAEC+g==');
    expect(csvValue(Buffer.from('olá', 'utf8'), 'text')).toBe('olá');
  });

  it('writes numbers, big integers and booleans as they print', () => {
    expect(csvValue(12.5, 'float')).toBe('12.5');
    expect(csvValue(9007199254740993n, 'integer')).toBe('9007199254740993');
    expect(csvValue(true, 'boolean')).toBe('true');
  });

  it('passes strings (WKT, times, already formatted dates) as they are', () => {
    expect(csvValue('POINT (1 2)', 'geometry')).toBe('POINT (1 2)');
    expect(csvValue('2020-01-02T03:04:05+02:00', 'timestamp')).toBe('2020-01-02T03:04:05+02:00');
  });
});
