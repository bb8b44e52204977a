import { isSqlite, isZip, sqliteDeclaredBytes } from './gdal-opener.js';

/** The first 100 bytes of an SQLite file of `pages` pages of `pageSize` bytes. */
const sqliteHeader = (pageSize: number, pages: number, vouched = true): Buffer => {
  const head = Buffer.alloc(100);
  head.write('SQLite format 3\0', 0, 'latin1');
  head.writeUInt16BE(pageSize === 65_536 ? 1 : pageSize, 16);
  head.writeUInt32BE(7, 24);
  head.writeUInt32BE(pages, 28);
  head.writeUInt32BE(vouched ? 7 : 6, 92);
  return head;
};

describe('GDAL opener', () => {
  it('recognises SQLite files and zips by their first bytes', () => {
    expect(isSqlite(sqliteHeader(4096, 1))).toBe(true);
    expect(isZip(Buffer.from('PK\x03\x04rest', 'latin1'))).toBe(true);
    expect(isZip(Buffer.from('PK\x05\x06', 'latin1'))).toBe(true);
    expect(isSqlite(Buffer.from('<html>'))).toBe(false);
    expect(isZip(Buffer.from('PK'))).toBe(false);
  });

  it('reads the size an SQLite header declares, when the header vouches for it', () => {
    expect(sqliteDeclaredBytes(sqliteHeader(4096, 25))).toBe(102_400);
    expect(sqliteDeclaredBytes(sqliteHeader(65_536, 2))).toBe(131_072);
    expect(sqliteDeclaredBytes(sqliteHeader(4096, 25, false))).toBeUndefined();
    expect(sqliteDeclaredBytes(Buffer.from('SQLite format 3\0', 'latin1'))).toBeUndefined();
  });
});
