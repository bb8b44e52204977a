import { inputBaseName, inputFileName, pickOpener } from './convert-input.js';
import type { TableSourceOpener } from './table-source.js';

const opener = (name: string, magic: string): TableSourceOpener => ({
  name,
  recognises: (head) => head.subarray(0, magic.length).toString('latin1') === magic,
  open: async () => {
    throw new Error('not in this test');
  },
});

describe('convert input', () => {
  it('names the input after its URI', () => {
    expect(inputFileName('https://files.example.org/dl/SMS%20Rio/BACKUP.GDB?x=1')).toBe('BACKUP.GDB');
    expect(inputBaseName('gs://bucket/dir/BACKUP.GDB')).toBe('BACKUP');
    expect(inputBaseName('https://example.org/')).toBe('database');
    expect(inputFileName('https://example.org/..%2F..%2Fetc%2Fpasswd')).toBe('etc_passwd');
    expect(inputBaseName('https://example.org/my file (1).gpkg')).toBe('my_file_1_');
  });

  it('picks the opener that recognises the first bytes, and refuses a file none does', () => {
    const openers = [opener('gdal', 'SQLite format 3\0'), opener('firebird', 'FB')];
    expect(pickOpener(openers, Buffer.from('SQLite format 3\0rest', 'latin1'), 'a.gpkg').name).toBe('gdal');
    expect(() => pickOpener(openers, Buffer.from('<html>'), 'page.html')).toThrow(
      '"page.html" is not a database geojobs can convert (GeoPackage, SQLite, FileGDB, Shapefile zip, Firebird .fbk/.fdb)',
    );
    expect(() => pickOpener(openers, Buffer.alloc(0), 'empty.gpkg')).toThrow('"empty.gpkg" is empty (0 bytes)');
  });
});
