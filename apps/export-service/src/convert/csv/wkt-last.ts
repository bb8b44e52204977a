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

export class WktLast {
  /** The start of a record not yet whole at the end of the last chunk. */
  private carry: Buffer = Buffer.alloc(0);

  /** The whole records of `carry` + `chunk`, each with its first field moved last; the rest is kept for the next chunk. */
  push(chunk: Buffer): Buffer {
    const bytes = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    const length = bytes.length;
    // at most 2 bytes more a record (the quotes a WKT with a comma keeps), and a record is at least 4 bytes (`,x\r\n`)
    const out = Buffer.allocUnsafe(length + (length >> 1) + 2);
    let written = 0;
    let start = 0;
    for (;;) {
      // the first field: `"…"` (a WKT holds no quote) or empty (a NULL geometry)
      let wktStart = start;
      let wktEnd: number;
      let rest: number;
      if (start >= length) break;
      if (bytes[start] === QUOTE) {
        const close = bytes.indexOf(QUOTE, start + 1);
        if (close < 0) break;
        wktStart = start + 1;
        wktEnd = close;
        rest = close + 1;
      } else {
        // unquoted: empty for a NULL geometry (GDAL quotes every WKT, which holds a space, but need not)
        rest = bytes.indexOf(COMMA, start);
        if (rest < 0) break;
        wktEnd = rest;
      }
      if (rest >= length) break;
      if (bytes[rest] !== COMMA) throw new Error(`a CSV record of GDAL's has no field after its WKT (byte ${rest} of a slice)`);
      rest += 1;
      // the other fields, copied as they are, up to the CRLF that is not inside quotes
      let end = rest;
      let quoted = false;
      let at = written;
      for (; end < length; end++) {
        const byte = bytes[end];
        if (byte === QUOTE) quoted = !quoted;
        else if (byte === CR && !quoted) break;
        out[at++] = byte;
      }
      if (end + 1 >= length) break;
      if (bytes[end + 1] !== LF) throw new Error(`a CSV record of GDAL's ends in CR without LF (byte ${end} of a slice)`);
      out[at++] = COMMA;
      let comma = false;
      for (let i = wktStart; i < wktEnd; i++) {
        if (bytes[i] === COMMA) {
          comma = true;
          break;
        }
      }
      if (comma) out[at++] = QUOTE;
      at += bytes.copy(out, at, wktStart, wktEnd);
      if (comma) out[at++] = QUOTE;
      out[at++] = CR;
      out[at++] = LF;
      written = at;
      start = end + 2;
    }
    this.carry = Buffer.from(bytes.subarray(start));
    return out.subarray(0, written);
  }

  /** Throws when the stream ended inside a record (GDAL ends each with CRLF). */
  end(): void {
    if (this.carry.length > 0) throw new Error(`a CSV slice of GDAL's ends inside a record (${this.carry.length} bytes)`);
  }
}
