import {
  decodeText,
  decodeValue,
  float32,
  iconvEncoding,
  planColumn,
  selectRows,
  timeOfDay,
  UnsupportedCharsetError,
  type FirebirdFieldDescription,
} from './firebird-columns.js';
import { quoteIdent } from '#shared';

const field = (change: Partial<FirebirdFieldDescription>): FirebirdFieldDescription => ({
  name: 'C',
  fieldType: 37,
  subType: 0,
  length: 40,
  charLength: 40,
  precision: null,
  scale: 0,
  charset: 'WIN1252',
  dimensions: null,
  computed: false,
  ...change,
});

/** What node-firebird hands over for text on a NONE connection: each byte as one Latin-1 character. */
const asWire = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

describe('quoteIdent', () => {
  it('quotes every name and doubles its quotes', () => {
    expect(quoteIdent('Exames "2024"')).toBe('"Exames ""2024"""');
    expect(quoteIdent('ID')).toBe('"ID"');
  });
});

describe('planColumn', () => {
  it.each([
    [{ fieldType: 7 }, 'SMALLINT', 'integer'],
    [{ fieldType: 8 }, 'INTEGER', 'integer'],
    [{ fieldType: 16 }, 'BIGINT', 'integer'],
    [{ fieldType: 8, scale: -2, precision: 5, subType: 1 }, 'NUMERIC(5,2)', 'decimal'],
    [{ fieldType: 16, scale: -4, precision: 18, subType: 2 }, 'DECIMAL(18,4)', 'decimal'],
    [{ fieldType: 10 }, 'FLOAT', 'float'],
    [{ fieldType: 27 }, 'DOUBLE PRECISION', 'float'],
    [{ fieldType: 23 }, 'BOOLEAN', 'boolean'],
    [{ fieldType: 12 }, 'DATE', 'date'],
    [{ fieldType: 13 }, 'TIME', 'time'],
    [{ fieldType: 35 }, 'TIMESTAMP', 'timestamp'],
    [{ fieldType: 37, charLength: 60 }, 'VARCHAR(60) CHARACTER SET WIN1252', 'text'],
    [{ fieldType: 14, charLength: 3, charset: 'UTF8' }, 'CHAR(3) CHARACTER SET UTF8', 'text'],
    [{ fieldType: 37, charLength: 16, charset: 'OCTETS' }, 'VARCHAR(16) CHARACTER SET OCTETS', 'binary'],
    [{ fieldType: 261, subType: 1 }, 'BLOB SUB_TYPE TEXT CHARACTER SET WIN1252', 'text'],
    [{ fieldType: 261, subType: 0, charset: null }, 'BLOB SUB_TYPE BINARY', 'binary'],
    [{ fieldType: 261, subType: 2, charset: null }, 'BLOB SUB_TYPE 2', 'binary'],
  ] as [Partial<FirebirdFieldDescription>, string, string][])('%o → %s (%s)', (change, type, kind) => {
    expect(planColumn(field(change), 'WIN1252')).toMatchObject({ name: 'C', type, kind });
  });

  it('reads dates, times, timestamps and scaled numerics through expressions that are exact whatever the time zone', () => {
    expect(planColumn(field({ fieldType: 35 }), 'NONE')?.select).toBe(`DATEDIFF(MILLISECOND FROM TIMESTAMP '1970-01-01 00:00:00' TO "C")`);
    expect(planColumn(field({ fieldType: 12 }), 'NONE')?.select).toBe(`DATEDIFF(DAY FROM DATE '1970-01-01' TO "C")`);
    expect(planColumn(field({ fieldType: 13 }), 'NONE')?.select).toBe('CAST("C" AS VARCHAR(13))');
    expect(planColumn(field({ fieldType: 8, scale: -2, precision: 9 }), 'NONE')?.select).toBe('CAST("C" AS VARCHAR(24))');
  });

  it('skips computed and array columns', () => {
    expect(planColumn(field({ computed: true }), 'WIN1252')).toBeNull();
    expect(planColumn(field({ dimensions: 1 }), 'WIN1252')).toBeNull();
  });

  it('decodes CHARACTER SET NONE with the database default', () => {
    expect(planColumn(field({ charset: 'NONE' }), 'ISO8859_1')?.encoding).toBe('iso-8859-1');
    expect(planColumn(field({ charset: 'NONE' }), 'NONE')?.encoding).toBe('guess');
  });

  it('refuses a character set it cannot decode, naming the column', () => {
    expect(() => planColumn(field({ name: 'Nome', charset: 'KLINGON' }), 'NONE')).toThrow(UnsupportedCharsetError);
    expect(() => planColumn(field({ name: 'Nome', charset: 'KLINGON' }), 'NONE')).toThrow('column "Nome" is in character set KLINGON');
  });
});

describe('iconvEncoding', () => {
  it.each([
    ['WIN1252', 'win1252'],
    ['ISO8859_1', 'iso-8859-1'],
    ['ISO8859_15', 'iso-8859-15'],
    ['DOS850', 'cp850'],
    ['UTF8', 'utf8'],
    ['UNICODE_FSS', 'utf8'],
    ['KOI8R', 'koi8-r'],
    ['OCTETS', null],
  ])('%s → %s', (charset, encoding) => {
    expect(iconvEncoding(charset, 'NONE')).toBe(encoding);
  });
});

describe('decodeText', () => {
  it('decodes the bytes of each character set', () => {
    expect(decodeText(Buffer.from([0x4a, 0x6f, 0xe3, 0x6f, 0x20, 0x80]).toString('latin1'), 'win1252')).toBe('João €');
    expect(decodeText(asWire('São Paulo ☃ 東京'), 'utf8')).toBe('São Paulo ☃ 東京');
    expect(decodeText('plain ascii', 'utf8')).toBe('plain ascii');
  });

  it('guesses CHARACTER SET NONE: UTF-8 when valid, else Windows-1252', () => {
    expect(decodeText(asWire('ação'), 'guess')).toBe('ação');
    expect(decodeText(Buffer.from([0x61, 0xe7, 0xe3, 0x6f]).toString('latin1'), 'guess')).toBe('ação');
  });
});

describe('decodeValue', () => {
  const plan = (change: Partial<FirebirdFieldDescription>) => {
    const column = planColumn(field(change), 'WIN1252');
    if (!column) throw new Error('no column');
    return column;
  };

  it('turns what the driver returns into source values', () => {
    expect(decodeValue(plan({ fieldType: 16 }), '42')).toBe(42);
    expect(decodeValue(plan({ fieldType: 16 }), '9007199254740993')).toBe(9007199254740993n);
    expect(decodeValue(plan({ fieldType: 8, scale: -2, precision: 9 }), '72.50')).toBe('72.50');
    expect(decodeValue(plan({ fieldType: 35 }), '-14182940000')).toEqual(new Date('1969-07-20T20:17:40Z'));
    expect(decodeValue(plan({ fieldType: 12 }), '11016')).toEqual(new Date('2000-02-29T00:00:00Z'));
    expect(decodeValue(plan({ fieldType: 13 }), '07:45:30.1200')).toBe('07:45:30.12');
    expect(decodeValue(plan({ fieldType: 10 }), Math.fround(0.1))).toBe(0.1);
    expect(decodeValue(plan({ fieldType: 37, charset: 'OCTETS' }), '\x00\xff')).toEqual(Buffer.from([0, 255]));
    expect(decodeValue(plan({ fieldType: 37 }), null)).toBeNull();
  });
});

describe('timeOfDay and float32', () => {
  it('keep the significant digits only', () => {
    expect(timeOfDay('23:59:59.0000')).toBe('23:59:59');
    expect(timeOfDay('10:00:00.1000')).toBe('10:00:00.1');
    expect(float32(Math.fround(1.25))).toBe(1.25);
    expect(float32(Math.fround(3.4028234e38))).toBe(3.4028235e38);
  });
});

describe('selectRows', () => {
  it('selects the planned expressions from the quoted table, without paging', () => {
    const columns = [planColumn(field({ name: 'código', fieldType: 8 }), 'NONE'), planColumn(field({ name: 'quando', fieldType: 35 }), 'NONE')];
    expect(
      selectRows(
        'Exames "2024"',
        columns.filter((column) => column !== null),
      ),
    ).toBe(`SELECT "código", DATEDIFF(MILLISECOND FROM TIMESTAMP '1970-01-01 00:00:00' TO "quando") FROM "Exames ""2024"""`);
  });
});
