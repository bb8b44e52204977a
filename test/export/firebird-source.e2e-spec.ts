/**
 * The Firebird source of export.convert against the real engine: the Firebird 3 server that the test set-up starts
 * (scripts/infra.sh), a database made here with isql-fb and backed up with gbak. Both the .fdb and the .fbk must read
 * back every table, column type and value as written; files Firebird 3 cannot read must fail with what to do instead.
 */
import { mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FirebirdOpener } from '../../apps/export-service/src/convert/sources/firebird/firebird.opener.js';
import { ConvertInputError, type SourceValue, type TableSource, type TableSourceOpener } from '../../apps/export-service/src/convert/table-source.js';
import {
  backupFirebirdDatabase,
  craftEncryptedHeader,
  craftOdsHeader,
  createRowsDatabase,
  createSampleDatabase,
  firebirdFixtureServer,
  rowsDatabaseRow,
  truncateFile,
  type FixtureTable,
} from '../../libs/testing/src/firebird-fixtures.js';
import { readHarness } from '../harness/global-setup.js';

const server = firebirdFixtureServer(readHarness().env);
const opener: TableSourceOpener = new FirebirdOpener(server);
const never = new AbortController().signal;

let dir: string;
let sample: { fdb: string; fbk: string; tables: FixtureTable[] };

const head = async (path: string): Promise<Buffer> => {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
};

const scratch = (name: string): string => join(dir, `scratch-${name}`);

async function readAll(source: TableSource): Promise<Record<string, SourceValue[][]>> {
  const result: Record<string, SourceValue[][]> = {};
  for (const table of await source.tables()) {
    const rows: SourceValue[][] = [];
    for await (const row of source.rows(table, never)) rows.push(row);
    result[table.name] = rows;
  }
  return result;
}

const openError = async (path: string): Promise<Error> => {
  try {
    const source = await opener.open(path, scratch('refused'), never);
    await source.close();
  } catch (error) {
    return error as Error;
  }
  throw new Error(`${path} opened`);
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'firebird-source-'));
  sample = await createSampleDatabase(server, dir);
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.each([
  ['database (.fdb)', () => sample.fdb, /^Firebird 3 \(ODS 12\.0\)$/],
  ['gbak backup (.fbk)', () => sample.fbk, /^Firebird 3 \(restored from a gbak backup, format 10\)$/],
])('a %s', (_what, path, engine) => {
  let source: TableSource;

  beforeAll(async () => {
    expect(opener.recognises(await head(path()), path())).toBe(true);
    source = await opener.open(path(), scratch(_what.slice(0, 3)), never);
  });

  afterAll(() => source?.close());

  it('names the engine and the database character set', () => {
    expect(source.engine).toMatch(engine);
    expect(source.charset).toBe('WIN1252');
  });

  it('lists the user tables with their columns and types, and no system table, view or computed column', async () => {
    const expected = [...sample.tables]
      .sort((a, b) => (Buffer.from(a.name) < Buffer.from(b.name) ? -1 : 1))
      .map((table) => ({ name: table.name, columns: table.columns.map(({ name, type, kind }) => ({ name, type, kind })) }));
    expect(await source.tables()).toEqual(expected);
  });

  it('reads every row and value as written: accents, NULLs, dates, times, BLOBs, exact decimals, big integers', async () => {
    const rows = await readAll(source);
    for (const table of sample.tables) expect({ table: table.name, rows: rows[table.name] }).toEqual({ table: table.name, rows: table.rows });
  });
});

it('restores a backup into the scratch folder it is given', async () => {
  const folder = scratch('restore-place');
  const source = await opener.open(sample.fbk, folder, never);
  await source.close();
  expect(await readdir(join(folder, 'firebird'))).toEqual(['restored.fdb']);
});

describe('refuses, with what to do instead,', () => {
  it.each([
    [
      11,
      2,
      'this is a Firebird database of on-disk structure ODS 11.2 (Firebird 2.5); Firebird 3 reads ODS 12 only: make a backup with gbak -b (any Firebird version can) and convert the .fbk',
    ],
    [
      11,
      1,
      'this is a Firebird database of on-disk structure ODS 11.1 (Firebird 2.1); Firebird 3 reads ODS 12 only: make a backup with gbak -b (any Firebird version can) and convert the .fbk',
    ],
    [
      10,
      1,
      'this is a Firebird database of on-disk structure ODS 10.1 (Firebird 1.5); Firebird 3 reads ODS 12 only: make a backup with gbak -b (any Firebird version can) and convert the .fbk',
    ],
  ])('a database of ODS %i.%i', async (major, minor, message) => {
    const old = join(dir, `ods${major}${minor}.gdb`);
    await craftOdsHeader(sample.fdb, old, major, minor, major >= 11);
    expect(opener.recognises(await head(old), old)).toBe(true);
    const error = await openError(old);
    expect(error).toBeInstanceOf(ConvertInputError);
    expect(error.message).toBe(message);
  });

  it('a database of a newer structure (ODS 13, Firebird 4), asking for a backup Firebird 3 can restore', async () => {
    const newer = join(dir, 'ods13.fdb');
    await craftOdsHeader(sample.fdb, newer, 13, 0);
    const error = await openError(newer);
    expect(error).toBeInstanceOf(ConvertInputError);
    expect(error.message).toMatch(/ODS 13\.0 \(Firebird 4\); Firebird 3 reads ODS 12 only: make a backup with the gbak of Firebird 3/);
  });

  it('a truncated backup', async () => {
    const truncated = join(dir, 'truncated.fbk');
    await truncateFile(sample.fbk, truncated, 0.5);
    expect(opener.recognises(await head(truncated), truncated)).toBe(true);
    const error = await openError(truncated);
    expect(error).toBeInstanceOf(ConvertInputError);
    expect(error.message).toMatch(/^this gbak backup is incomplete: the file ends before the backup does/);
    expect(error.message).not.toContain(dir); // no scratch paths in what the user reads
  });

  it('an encrypted database', async () => {
    const encrypted = join(dir, 'encrypted.fdb');
    await craftEncryptedHeader(sample.fdb, encrypted);
    const error = await openError(encrypted);
    expect(error).toBeInstanceOf(ConvertInputError);
    expect(error.message).toMatch(/^this Firebird database is encrypted.*gbak -b/);
  });

  it('a file that is no database (not recognised; refused if opened anyway)', async () => {
    const text = join(dir, 'notes.gdb');
    await writeFile(text, 'id;name\n1;not a database\n'.repeat(200));
    expect(opener.recognises(await head(text), text)).toBe(false);
    const error = await openError(text);
    expect(error).toBeInstanceOf(ConvertInputError);
    expect(error.message).toBe('this file is neither a Firebird database nor a gbak backup');
  });

  it('a database cut short', async () => {
    const cut = join(dir, 'cut.fdb');
    await truncateFile(sample.fdb, cut, 0.3);
    const error = await (async () => {
      try {
        const source = await opener.open(cut, scratch('cut'), never);
        try {
          await readAll(source);
        } finally {
          await source.close();
        }
      } catch (caught) {
        return caught as Error;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ConvertInputError);
    expect(error?.message).toMatch(/^Firebird cannot open this database: /);
  });
});

describe('streaming', () => {
  const rows = 20_000;
  let path: string;

  beforeAll(async () => {
    path = join(dir, 'rows.fdb');
    await createRowsDatabase(server, path, rows);
  }, 60_000);

  it('reads every row of a larger table in order, through one cursor', async () => {
    const source = await opener.open(path, scratch('rows'), never);
    try {
      const [table] = await source.tables();
      let count = 0;
      for await (const row of source.rows(table, never)) {
        if (count % 997 === 0 || count === rows - 1) expect(row).toEqual(rowsDatabaseRow(count));
        count++;
      }
      expect(count).toBe(rows);
    } finally {
      await source.close();
    }
  });

  it('stops when the signal fires, and the attachment reads on afterwards', async () => {
    const source = await opener.open(path, scratch('abort'), never);
    try {
      const [table] = await source.tables();
      const controller = new AbortController();
      let count = 0;
      const reading = (async () => {
        for await (const _row of source.rows(table, controller.signal)) {
          if (++count === 500) controller.abort(new Error('cancelled by the test'));
        }
      })();
      await expect(reading).rejects.toThrow('cancelled by the test');
      expect(count).toBeLessThan(1_000);

      let again = 0;
      for await (const _row of source.rows(table, never)) again++;
      expect(again).toBe(rows);
    } finally {
      await source.close();
    }
  });

  it('stops a restore when the signal fires', async () => {
    const backup = join(dir, 'rows.fbk');
    await backupFirebirdDatabase(server, path, backup);
    const controller = new AbortController();
    const opening = opener.open(backup, scratch('abort-restore'), controller.signal);
    setTimeout(() => controller.abort(new Error('cancelled during the restore')), 50);
    await expect(opening).rejects.toThrow('cancelled during the restore');
  });
});
