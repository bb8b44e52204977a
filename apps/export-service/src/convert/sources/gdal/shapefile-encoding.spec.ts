import { shapefileEncoding } from './shapefile-encoding.js';

describe('shapefileEncoding', () => {
  it('reads the .cpg first, then the language driver id, else GDAL’s default', () => {
    expect(shapefileEncoding('UTF-8\n', 0x57)).toBe('UTF-8');
    expect(shapefileEncoding('1252', undefined)).toBe('CP1252');
    expect(shapefileEncoding(undefined, 0x03)).toBe('CP1252');
    expect(shapefileEncoding(undefined, 0)).toBe('ISO-8859-1');
  });
});
