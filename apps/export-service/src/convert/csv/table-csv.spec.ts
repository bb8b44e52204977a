import { text } from 'node:stream/consumers';
import iconv from 'iconv-lite';
import type { SourceTable, SourceValue, TableSource } from '../table-source.js';
import { csvField, csvRecord, encoder, tableCsv } from './table-csv.js';

const table: SourceTable = {
  name: 'people',
  columns: [
    { name: 'id', type: 'Integer', kind: 'integer' },
    { name: 'name', type: 'String', kind: 'text' },
    { name: 'born', type: 'Date', kind: 'date' },
    { name: 'photo', type: 'Binary', kind: 'binary' },
  ],
};

const sourceOf = (rows: SourceValue[][]): TableSource => ({
  engine: 'test',
  charset: 'UTF-8',
  tables: async () => [table],
  async *rows() {
    yield* rows;
  },
  close: async () => undefined,
});

describe('tableCsv', () => {
  it('writes RFC 4180 CSV with a header row, CRLF, quoted fields where needed, NULL as empty', async () => {
    const seen: number[] = [];
    const csv = tableCsv(
      sourceOf([
        [1, 'Zoë "Z", the first', new Date(Date.UTC(1990, 0, 2)), Buffer.from('hi')],
        [2, 'two\nlines', null, null],
      ]),
      table,
      'utf-8',
      new AbortController().signal,
      (rows) => seen.push(rows),
    );
    expect(await text(csv.stream)).toBe('id,name,born,photo\r\n1,"Zoë ""Z"", the first",1990-01-02,aGk=\r\n2,"two\nlines",,\r\n');
    expect(csv.rows()).toBe(2);
    expect(seen).toEqual([2]);
  });

  it('quotes a field only when it holds a comma, a quote or a line break', () => {
    expect(['plain', ' spaced ', 'a,b', 'say "hi"', 'cr\ronly', 'lf\nonly', ''].map(csvField)).toEqual([
      'plain',
      ' spaced ',
      '"a,b"',
      '"say ""hi"""',
      '"cr\ronly"',
      '"lf\nonly"',
      '',
    ]);
    expect(csvRecord(['id', 'nome da cidade'])).toBe('id,nome da cidade\r\n');
  });

  it('encodes to the charset asked for', () => {
    expect(encoder('latin1')('é')).toEqual(Buffer.from([0xe9]));
    expect(encoder('UTF-8')('é')).toEqual(Buffer.from([0xc3, 0xa9]));
    expect(iconv.decode(encoder('windows-1252')('€'), 'windows-1252')).toBe('€');
  });
});
