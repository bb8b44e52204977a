import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer, text } from 'node:stream/consumers';
import iconv from 'iconv-lite';
import type { NativeCsv, SourceTable, SourceValue, TableSource } from '../table-source.js';
import { csvField, csvRecord, encoder, nativeTableCsv, tableCsv } from './table-csv.js';

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

  describe('nativeTableCsv', () => {
    let folder: string;
    beforeAll(async () => {
      folder = await mkdtemp(join(tmpdir(), 'geojobs-native-csv-'));
    });
    afterAll(() => rm(folder, { recursive: true, force: true }));

    /** Slices as an engine writes them: its own header, then the records. The first ends in a record longer than a read. */
    const header = 'c0,c1,c2,c3\r\n';
    // `1,"` then the x: the é starts at the last byte of the first 256 KiB read
    const long = `${'x'.repeat(256 * 1024 - 4)}é, ação`;
    const slices = [`1,"${long}",1990-01-02,\r\n`, '2,"two\nlines",,aGk=\r\n3,São Paulo,,\r\n'];
    const native: NativeCsv = {
      slices: [1, 2],
      headerBytes: Buffer.byteLength(header),
      write: (index, path) => writeFile(path, header + slices[index]),
    };
    const sliceFile = async (index: number) => {
      const path = join(folder, `slice-${index}.csv`);
      await native.write(index, path);
      return path;
    };

    it("writes its header row, then every slice after the engine's header, removing each slice once read", async () => {
      const seen: number[] = [];
      const csv = nativeTableCsv(table, native, 'utf-8', sliceFile, (rows) => seen.push(rows));
      expect(await text(csv.stream)).toBe(`id,name,born,photo\r\n${slices.join('')}`);
      expect(csv.rows()).toBe(3);
      expect(seen).toEqual([1, 3]);
      expect([existsSync(join(folder, 'slice-0.csv')), existsSync(join(folder, 'slice-1.csv'))]).toEqual([false, false]);
    });

    it('re-encodes to another charset, a character split between two reads included', async () => {
      const csv = nativeTableCsv(table, native, 'latin1', sliceFile, () => undefined);
      const bytes = await buffer(csv.stream);
      expect(bytes).toEqual(iconv.encode(`id,name,born,photo\r\n${slices.join('')}`, 'latin1'));
    });
  });
});
