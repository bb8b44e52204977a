/**
 * GDAL's CSV driver writes a layer's geometry (GEOMETRY=AS_WKT) as the first column, always quoted; a converted table's
 * CSV has it last, quoted only when it holds a comma (as csvField quotes). WktLast moves it, record by record, over the
 * bytes of a stream of RFC 4180 records (CRLF, `"` quoting, line breaks inside quotes), so that GDAL's CSV driver
 * can read the table straight from SQL: the OGR SQL layer that put the geometry last cost about a fifth of the
 * translation's CPU time (bench:convert). Written by hand: a CSV parser and writer (csv-parse, csv-stringify) would
 * decode every field to a string and back, several times this pass over the bytes.
 */
const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

/** Bytes of a chunk joined to the record carried from the last one, enough for most records to end in. */
const HEAD_BYTES = 64 * 1024;

export class WktLast {
  /** The start of a record not yet whole at the end of the last chunk. */
  private carry: Buffer = Buffer.alloc(0);
  /** A record's WKT, set aside while the record's other fields move over it. */
  private wkt: Buffer = Buffer.allocUnsafe(4096);

  /** `headBytes`: see HEAD_BYTES (smaller in tests). */
  constructor(private readonly headBytes = HEAD_BYTES) {}

  /**
   * The whole records of `carry` + `chunk`, each with its first field moved last, written over the bytes they came from
   * (no buffer more for the garbage collector: a record never grows, as GDAL quotes each WKT and only those with a
   * comma keep their quotes); the rest is kept for the next chunk. `chunk` is the caller's no more. The record carried
   * over is joined to the chunk's first bytes only, not to the whole chunk: a copy of every chunk doubled the bytes
   * allocated outside V8's heap, and with them its full collections.
   */
  push(chunk: Buffer): Buffer[] {
    const moved: Buffer[] = [];
    let rest = chunk;
    if (this.carry.length > 0) {
      const carried = this.carry.length;
      const head = Buffer.concat([this.carry, chunk.subarray(0, this.headBytes)]);
      const { written, consumed } = this.move(head);
      if (consumed > carried) {
        moved.push(head.subarray(0, written));
        rest = chunk.subarray(consumed - carried);
      } else {
        rest = chunk.length <= this.headBytes ? head : Buffer.concat([this.carry, chunk]);
      }
      this.carry = Buffer.alloc(0);
    }
    const { written, consumed } = this.move(rest);
    moved.push(rest.subarray(0, written));
    this.carry = Buffer.from(rest.subarray(consumed));
    return moved;
  }

  /** Moves the WKT of each whole record of `bytes`, in place: the bytes written, and those consumed (whole records). */
  private move(bytes: Buffer): { written: number; consumed: number } {
    const length = bytes.length;
    let written = 0;
    let start = 0;
    for (;;) {
      if (start >= length) break;
      // the first field: `"…"` (a WKT holds no quote), or unquoted: empty for a NULL geometry
      let wktStart = start;
      let wktEnd: number;
      let rest: number;
      if (bytes[start] === QUOTE) {
        const close = bytes.indexOf(QUOTE, start + 1);
        if (close < 0) break;
        wktStart = start + 1;
        wktEnd = close;
        rest = close + 1;
      } else {
        rest = bytes.indexOf(COMMA, start);
        if (rest < 0) break;
        wktEnd = rest;
      }
      if (rest >= length) break;
      if (bytes[rest] !== COMMA) throw new Error(`a CSV record of GDAL's has no field after its WKT (byte ${rest} of a slice)`);
      rest += 1;
      // the record's end: the CRLF that is not inside quotes
      let end = rest;
      let quoted = false;
      for (; end < length; end++) {
        const byte = bytes[end];
        if (byte === QUOTE) quoted = !quoted;
        else if (byte === CR && !quoted) break;
      }
      if (end + 1 >= length) break;
      if (bytes[end + 1] !== LF) throw new Error(`a CSV record of GDAL's ends in CR without LF (byte ${end} of a slice)`);
      const wktBytes = wktEnd - wktStart;
      if (wktBytes > this.wkt.length) this.wkt = Buffer.allocUnsafe(wktBytes * 2);
      bytes.copy(this.wkt, 0, wktStart, wktEnd);
      const firstComma = bytes.indexOf(COMMA, wktStart);
      const comma = firstComma >= 0 && firstComma < wktEnd;
      // the other fields move to where the record starts (left of where they were), then the WKT, then CRLF
      let at = written + bytes.copy(bytes, written, rest, end);
      bytes[at++] = COMMA;
      if (comma) bytes[at++] = QUOTE;
      at += this.wkt.copy(bytes, at, 0, wktBytes);
      if (comma) bytes[at++] = QUOTE;
      bytes[at++] = CR;
      bytes[at++] = LF;
      written = at;
      start = end + 2;
    }
    return { written, consumed: start };
  }

  /** Throws when the stream ended inside a record (GDAL ends each with CRLF). */
  end(): void {
    if (this.carry.length > 0) throw new Error(`a CSV slice of GDAL's ends inside a record (${this.carry.length} bytes)`);
  }
}
