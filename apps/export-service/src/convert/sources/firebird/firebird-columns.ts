import iconv from 'iconv-lite';
import type { ColumnKind, SourceColumn } from '../../table-source.js';
import { quoteIdent } from '#shared';

/**
 * How a Firebird column is read and turned into a SourceValue: the pure part of the Firebird source, from the system
 * tables' description of a column (RDB$RELATION_FIELDS joined with RDB$FIELDS) to the select-list expression that
 * reads it and the decoder of what node-firebird returns for it.
 *
 * The connection's character set is NONE, so the server sends every text as the bytes stored, in the column's own
 * character set, and node-firebird hands them over as Latin-1 strings (one char per byte, nothing lost); each
 * column's text is decoded here with its own character set. A connection in UTF8 would have the server transliterate
 * instead, which fails the whole table on one badly encoded value and leaves CHARACTER SET NONE columns undecoded.
 */

/** A column as RDB$RELATION_FIELDS / RDB$FIELDS / RDB$CHARACTER_SETS describe it. */
export interface FirebirdFieldDescription {
  name: string;
  /** RDB$FIELD_TYPE */
  fieldType: number;
  subType: number | null;
  /** Bytes (RDB$FIELD_LENGTH). */
  length: number | null;
  /** Characters (RDB$CHARACTER_LENGTH), for CHAR and VARCHAR. */
  charLength: number | null;
  precision: number | null;
  scale: number | null;
  /** RDB$CHARACTER_SET_NAME of the column's character set, for text and text BLOBs. */
  charset: string | null;
  /** RDB$DIMENSIONS: an array column when above 0. */
  dimensions: number | null;
  /** COMPUTED BY: not stored; reading it would run the database's own expressions. */
  computed: boolean;
}

/** How a fetched value becomes a SourceValue. */
export type FirebirdDecoder =
  | 'text' // bytes as a Latin-1 string, decoded with the column's character set
  | 'octets' // bytes as a Latin-1 string, returned as a Buffer
  | 'number'
  | 'integer' // BIGINT: an exact string from the driver, a number when safe, else a bigint
  | 'exact' // an exact decimal string (the server's CAST)
  | 'fixed' // a dialect 1 NUMERIC stored as DOUBLE PRECISION: written with its scale
  | 'float32'
  | 'boolean'
  | 'epoch-days' // DATEDIFF(DAY FROM 1970-01-01): a Date
  | 'epoch-ms' // DATEDIFF(MILLISECOND FROM 1970-01-01): a Date
  | 'time' // 'HH:MM:SS.ffff' from the server's CAST
  | 'text-blob'
  | 'binary-blob';

export interface FirebirdColumn extends SourceColumn {
  /** The select-list expression that reads the column. */
  select: string;
  decoder: FirebirdDecoder;
  /** The iconv-lite encoding of its text, or 'guess' for CHARACTER SET NONE in a database whose default is NONE too. */
  encoding: string | null;
  /** Digits after the point, for the 'fixed' decoder. */
  scale: number;
}

/** Firebird character set names whose iconv-lite name is not a simple rewrite. */
const ICONV_NAMES: Record<string, string> = {
  UNICODE_FSS: 'utf8',
  UTF8: 'utf8',
  ASCII: 'ascii',
  KOI8R: 'koi8-r',
  KOI8U: 'koi8-u',
  SJIS_0208: 'shift_jis',
  CP943C: 'shift_jis',
  EUCJ_0208: 'euc-jp',
  BIG_5: 'big5',
  GB_2312: 'gb2312',
  GBK: 'gbk',
  GB18030: 'gb18030',
  KSC_5601: 'euc-kr',
  TIS620: 'tis620',
  CYRL: 'cp866',
  NEXT: 'macroman',
  WIN_1258: 'win1258',
};

/**
 * The iconv-lite encoding of a Firebird character set: null for OCTETS (bytes, not text), 'guess' for NONE in a
 * database whose default is NONE too (the bytes' charset is declared nowhere), undefined for one iconv-lite lacks.
 */
export function iconvEncoding(charset: string | null, databaseCharset: string): string | null | undefined {
  const name = (charset ?? 'NONE').trim().toUpperCase();
  if (name === 'OCTETS' || name === 'BINARY') return null;
  if (name === 'NONE') {
    const fallback = databaseCharset.trim().toUpperCase();
    return fallback === 'NONE' || fallback === 'OCTETS' || fallback === '' ? 'guess' : iconvEncoding(fallback, 'NONE');
  }
  const candidate =
    ICONV_NAMES[name] ??
    name
      .replace(/^ISO8859_(\d+)$/, 'iso-8859-$1')
      .replace(/^WIN(\d+)$/, 'win$1')
      .replace(/^DOS(\d+)$/, 'cp$1')
      .toLowerCase();
  return iconv.encodingExists(candidate) ? candidate : undefined;
}

/** A byte above 0x7f: text without one is ASCII, the same in every character set here. */
const HIGH_BYTE = /[\x80-\xff]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Text from the bytes of a Latin-1 string. CHARACTER SET NONE with no database default: UTF-8 when the bytes are valid
 * UTF-8, else Windows-1252 (what Windows clients of old Firebird servers wrote).
 */
export function decodeText(latin1: string, encoding: string): string {
  if (encoding === 'iso-8859-1' || !HIGH_BYTE.test(latin1)) return latin1;
  const bytes = Buffer.from(latin1, 'latin1');
  return decodeBytes(bytes, encoding);
}

export function decodeBytes(bytes: Buffer, encoding: string): string {
  if (encoding !== 'guess') return iconv.decode(bytes, encoding);
  try {
    return utf8.decode(bytes);
  } catch {
    return iconv.decode(bytes, 'win1252');
  }
}

/** The shortest decimal that reads back as the same 32-bit float: FLOAT 0.1 is 0.1, not 0.10000000149011612. */
export function float32(value: number): number {
  if (!Number.isFinite(value)) return value;
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

/** 'HH:MM:SS.ffff' as the server casts a TIME, written HH:MM:SS with the fraction's significant digits only. */
export function timeOfDay(value: string): string {
  const [clock, fraction = ''] = value.trim().split('.');
  const digits = fraction.replace(/0+$/, '');
  return digits ? `${clock}.${digits}` : clock;
}

const TYPE = {
  SMALLINT: 7,
  INTEGER: 8,
  QUAD: 9,
  FLOAT: 10,
  D_FLOAT: 11,
  DATE: 12,
  TIME: 13,
  CHAR: 14,
  BIGINT: 16,
  BOOLEAN: 23,
  DOUBLE: 27,
  TIMESTAMP: 35,
  VARCHAR: 37,
  CSTRING: 40,
  BLOB: 261,
};
const DEFAULT_PRECISION: Record<number, number> = { [TYPE.SMALLINT]: 4, [TYPE.INTEGER]: 9, [TYPE.BIGINT]: 18, [TYPE.DOUBLE]: 15 };

/** The column, with how to read it; null for what is not stored data (COMPUTED BY) or cannot be read (arrays). */
export function planColumn(field: FirebirdFieldDescription, databaseCharset: string): FirebirdColumn | null {
  if (field.computed || (field.dimensions ?? 0) > 0) return null;
  const column = quoteIdent(field.name);
  const plan = (type: string, kind: ColumnKind, decoder: FirebirdDecoder, select = column, encoding: string | null = null, scale = 0): FirebirdColumn => ({
    name: field.name,
    type,
    kind,
    select,
    decoder,
    encoding,
    scale,
  });
  const scale = -(field.scale ?? 0);
  const charset = (field.charset ?? 'NONE').trim().toUpperCase();

  switch (field.fieldType) {
    case TYPE.SMALLINT:
    case TYPE.INTEGER:
    case TYPE.BIGINT:
    case TYPE.QUAD: {
      if (scale > 0) {
        const precision = field.precision || DEFAULT_PRECISION[field.fieldType] || 18;
        const name = field.subType === 2 ? 'DECIMAL' : 'NUMERIC';
        return plan(`${name}(${precision},${scale})`, 'decimal', 'exact', `CAST(${column} AS VARCHAR(24))`);
      }
      if (field.fieldType === TYPE.SMALLINT) return plan('SMALLINT', 'integer', 'number');
      if (field.fieldType === TYPE.INTEGER) return plan('INTEGER', 'integer', 'number');
      return plan('BIGINT', 'integer', 'integer');
    }
    case TYPE.FLOAT:
      return plan('FLOAT', 'float', 'float32');
    case TYPE.DOUBLE:
    case TYPE.D_FLOAT:
      if (scale > 0) return plan(`NUMERIC(${field.precision || 15},${scale}) (dialect 1, stored as DOUBLE PRECISION)`, 'decimal', 'fixed', column, null, scale);
      return plan('DOUBLE PRECISION', 'float', 'number');
    case TYPE.BOOLEAN:
      return plan('BOOLEAN', 'boolean', 'boolean');
    case TYPE.DATE:
      return plan('DATE', 'date', 'epoch-days', `DATEDIFF(DAY FROM DATE '1970-01-01' TO ${column})`);
    case TYPE.TIME:
      return plan('TIME', 'time', 'time', `CAST(${column} AS VARCHAR(13))`);
    case TYPE.TIMESTAMP:
      return plan('TIMESTAMP', 'timestamp', 'epoch-ms', `DATEDIFF(MILLISECOND FROM TIMESTAMP '1970-01-01 00:00:00' TO ${column})`);
    case TYPE.CHAR:
    case TYPE.VARCHAR:
    case TYPE.CSTRING: {
      const name = field.fieldType === TYPE.CHAR ? 'CHAR' : field.fieldType === TYPE.VARCHAR ? 'VARCHAR' : 'CSTRING';
      const type = `${name}(${field.charLength ?? field.length ?? 0}) CHARACTER SET ${charset}`;
      const encoding = iconvEncoding(charset, databaseCharset);
      if (encoding === null) return plan(type, 'binary', 'octets');
      return plan(type, 'text', 'text', column, encoding ?? unsupported(field, charset));
    }
    case TYPE.BLOB: {
      if (field.subType !== 1)
        return plan(field.subType === 0 || field.subType === null ? 'BLOB SUB_TYPE BINARY' : `BLOB SUB_TYPE ${field.subType}`, 'binary', 'binary-blob');
      const type = `BLOB SUB_TYPE TEXT CHARACTER SET ${charset}`;
      const encoding = iconvEncoding(charset, databaseCharset);
      if (encoding === null) return plan(type, 'binary', 'binary-blob');
      return plan(type, 'text', 'text-blob', column, encoding ?? unsupported(field, charset));
    }
    default:
      return null;
  }
}

function unsupported(field: FirebirdFieldDescription, charset: string): never {
  throw new UnsupportedCharsetError(`column "${field.name}" is in character set ${charset}, which this converter cannot decode`);
}

export class UnsupportedCharsetError extends Error {
  override readonly name = 'UnsupportedCharsetError';
}

/** The SELECT that streams a table's columns in order. No ORDER BY: the natural order reads pages sequentially. */
export function selectRows(table: string, columns: readonly FirebirdColumn[]): string {
  return `SELECT ${columns.map((column) => column.select).join(', ')} FROM ${quoteIdent(table)}`;
}

const MS_PER_DAY = 86_400_000;

/** A scalar the driver returned (string, number, bigint, boolean) as text. */
export function scalarText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  throw new TypeError(`expected a scalar from the Firebird driver, got ${typeof value}`);
}

/** A fetched value of a column that is not a BLOB, as a SourceValue. */
export function decodeValue(column: FirebirdColumn, value: unknown): string | number | bigint | boolean | Date | Buffer | null {
  if (value === null || value === undefined) return null;
  switch (column.decoder) {
    case 'text':
      return decodeText(scalarText(value), column.encoding ?? 'guess');
    case 'octets':
      return Buffer.from(scalarText(value), 'latin1');
    case 'number':
      return Number(value);
    case 'integer': {
      const number = Number(value);
      return Number.isSafeInteger(number) ? number : BigInt(scalarText(value));
    }
    case 'exact':
      return scalarText(value).trim();
    case 'fixed':
      return Number(value).toFixed(column.scale);
    case 'float32':
      return float32(Number(value));
    case 'boolean':
      return Boolean(value);
    case 'epoch-days':
      return new Date(Number(value) * MS_PER_DAY);
    case 'epoch-ms':
      return new Date(Number(value));
    case 'time':
      return timeOfDay(scalarText(value));
    case 'text-blob':
    case 'binary-blob':
      throw new Error(`column "${column.name}" is a BLOB: read it through its blob reader`);
  }
}
