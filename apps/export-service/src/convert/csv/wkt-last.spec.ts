import { WktLast } from './wkt-last.js';

/** Records as GDAL's CSV driver writes them (geometry first, quoted), and as the rows path writes them (geometry last). */
const gdalRecords =
  '"POINT (1 2)",1,"a, ""b""",0.5\r\n' + ',2,"two\r\nlines",\r\n' + '"POLYGON ((0 0,1 0,1 1,0 0))",3,,\r\n' + '"POINT EMPTY",4,"x\r\n",1e+21\r\n';
const rowsPathRecords =
  '1,"a, ""b""",0.5,POINT (1 2)\r\n' + '2,"two\r\nlines",,\r\n' + '3,,,"POLYGON ((0 0,1 0,1 1,0 0))"\r\n' + '4,"x\r\n",1e+21,POINT EMPTY\r\n';

describe('WktLast', () => {
  it('moves the first field of each record last, quoted only when it holds a comma, whatever the chunks', () => {
    const bytes = Buffer.from(gdalRecords);
    // the record carried over ending in the next chunk's first bytes, or after them (a head of 8 bytes)
    for (const headBytes of [64 * 1024, 8]) {
      for (let size = 1; size <= bytes.length; size++) {
        const move = new WktLast(headBytes);
        const out: Buffer[] = [];
        // each chunk a buffer of its own, as a file stream reads them (WktLast writes over them)
        for (let at = 0; at < bytes.length; at += size) out.push(...move.push(Buffer.from(bytes.subarray(at, at + size))));
        move.end();
        expect([headBytes, size, Buffer.concat(out).toString()]).toEqual([headBytes, size, rowsPathRecords]);
      }
    }
  });

  it('fails on a stream that ends inside a record', () => {
    const move = new WktLast();
    expect(Buffer.concat(move.push(Buffer.from('"POINT (1 2)",1\r\n"POINT (3 4)",2'))).toString()).toBe('1,POINT (1 2)\r\n');
    expect(() => move.end()).toThrow(/ends inside a record/);
  });
});
