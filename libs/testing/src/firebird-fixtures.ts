/**
 * Firebird databases made for the tests and `npm run bench:convert`, through the real engine (the Firebird 3 server
 * that scripts/infra.sh starts): isql-fb runs the DDL and inserts, gbak makes backups. The sample database holds what
 * a converter must get right (WIN1252 accents, NULLs, dates, times, timestamps, text and binary BLOBs, quotes and
 * spaces in names), with each table's expected rows as the Firebird source must read them back; the rows database is
 * filled inside the engine by an EXECUTE BLOCK loop, so a million rows take seconds, not a million round trips.
 */
import { execFile } from 'node:child_process';
import { copyFile, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The server to make the databases on (GEOJOBS_FIREBIRD_* of `scripts/infra.sh env`). */
export interface FirebirdFixtureServer {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** The server from `scripts/infra.sh env` variables (the test harness's env, or the bench's process env). */
export function firebirdFixtureServer(env: Record<string, string | undefined>): FirebirdFixtureServer {
  const password = env.GEOJOBS_FIREBIRD_PASSWORD;
  if (!password) throw new Error('GEOJOBS_FIREBIRD_PASSWORD is not set: start the servers with scripts/infra.sh (or the test set-up)');
  return {
    host: env.GEOJOBS_FIREBIRD_HOST ?? '127.0.0.1',
    port: Number(env.GEOJOBS_FIREBIRD_PORT ?? 3050),
    user: env.GEOJOBS_FIREBIRD_USER ?? 'SYSDBA',
    password,
  };
}

/** What a column holds, as the Firebird source returns it (the ColumnKind of export-service's table-source.ts). */
export type FixtureKind = 'text' | 'integer' | 'decimal' | 'float' | 'boolean' | 'date' | 'timestamp' | 'time' | 'binary';
export type FixtureValue = string | number | bigint | boolean | Date | Buffer | null;

export interface FixtureColumn {
  name: string;
  /** The column's SQL type in the CREATE TABLE. */
  sql: string;
  /** Its type as the source names it for the README. */
  type: string;
  kind: FixtureKind;
}

export interface FixtureTable {
  name: string;
  columns: FixtureColumn[];
  /** The rows, in insertion order, as the source reads them back. */
  rows: FixtureValue[][];
}

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const text = (value: string): string => `'${value.replaceAll("'", "''")}'`;
const pad = (value: number, width = 2): string => String(value).padStart(width, '0');
const day = (date: Date): string => `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
const clock = (date: Date): string =>
  `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}.${pad(date.getUTCMilliseconds(), 3)}`;

/** A value as an SQL literal of its column's kind. */
export function fixtureLiteral(kind: FixtureKind, value: FixtureValue): string {
  if (value === null) return 'NULL';
  switch (kind) {
    case 'text':
    case 'decimal':
      return kind === 'text' ? text(String(value)) : String(value);
    case 'time':
      return `TIME '${String(value)}'`;
    case 'binary':
      return `x'${(value as Buffer).toString('hex')}'`;
    case 'boolean':
      return value ? 'TRUE' : 'FALSE';
    case 'date':
      return `DATE '${day(value as Date)}'`;
    case 'timestamp':
      return `TIMESTAMP '${day(value as Date)} ${clock(value as Date)}'`;
    default:
      return String(value);
  }
}

/** The CREATE TABLE and INSERTs of a table. */
export function fixtureTableSql(table: FixtureTable): string {
  const columns = table.columns.map((column) => `${quote(column.name)} ${column.sql}`).join(', ');
  const names = table.columns.map((column) => quote(column.name)).join(', ');
  const inserts = table.rows.map(
    (row) => `INSERT INTO ${quote(table.name)} (${names}) VALUES (${row.map((value, index) => fixtureLiteral(table.columns[index].kind, value)).join(', ')});`,
  );
  return [`CREATE TABLE ${quote(table.name)} (${columns});`, 'COMMIT;', ...inserts, 'COMMIT;'].join('\n');
}

const utc = (iso: string): Date => new Date(`${iso}Z`);

/**
 * The sample database's tables: a WIN1252 database (its default character set) with accented Portuguese text,
 * NULLs in every kind of column, text and binary BLOBs, a UTF8 column beside WIN1252 ones, a table and columns whose
 * names need quotes, and an empty table. (The database also has a view and a computed column, which are not data.)
 */
export const SAMPLE_TABLES: FixtureTable[] = [
  {
    name: 'PACIENTES',
    columns: [
      { name: 'ID', sql: 'INTEGER NOT NULL PRIMARY KEY', type: 'INTEGER', kind: 'integer' },
      { name: 'NOME', sql: 'VARCHAR(60)', type: 'VARCHAR(60) CHARACTER SET WIN1252', kind: 'text' },
      { name: 'NASCIMENTO', sql: 'DATE', type: 'DATE', kind: 'date' },
      { name: 'PESO', sql: 'NUMERIC(5,2)', type: 'NUMERIC(5,2)', kind: 'decimal' },
      { name: 'ATIVO', sql: 'BOOLEAN', type: 'BOOLEAN', kind: 'boolean' },
      { name: 'CADASTRO', sql: 'TIMESTAMP', type: 'TIMESTAMP', kind: 'timestamp' },
      { name: 'OBSERVACOES', sql: 'BLOB SUB_TYPE TEXT', type: 'BLOB SUB_TYPE TEXT CHARACTER SET WIN1252', kind: 'text' },
    ],
    rows: [
      [
        1,
        'João da Conceição',
        utc('1980-02-29T00:00:00'),
        '72.50',
        true,
        utc('2024-01-15T08:30:00.125'),
        'Hipertensão; retorno em 30 dias.\nAlergia: penicilina.',
      ],
      [2, 'Márcia Ñúñez "Tiça"', utc('1955-12-31T00:00:00'), '0.99', false, utc('1999-12-31T23:59:59.999'), 'àáâãäå çèéêë ìíîï ðñòóôõö ùúûü ýÿ €'],
      [3, "O'Brien, Zoë", null, null, null, null, null],
      [4, '', utc('2000-01-01T00:00:00'), '-12.30', true, utc('1969-07-20T20:17:40'), ''],
    ],
  },
  {
    name: 'Exames Clínicos "2024"',
    columns: [
      { name: 'código do exame', sql: 'BIGINT', type: 'BIGINT', kind: 'integer' },
      { name: 'Resultado "final"', sql: 'VARCHAR(40)', type: 'VARCHAR(40) CHARACTER SET WIN1252', kind: 'text' },
      { name: 'laudo', sql: 'BLOB SUB_TYPE BINARY', type: 'BLOB SUB_TYPE BINARY', kind: 'binary' },
      { name: 'HORA', sql: 'TIME', type: 'TIME', kind: 'time' },
      { name: 'VALOR', sql: 'DOUBLE PRECISION', type: 'DOUBLE PRECISION', kind: 'float' },
      { name: 'RAZAO', sql: 'FLOAT', type: 'FLOAT', kind: 'float' },
      { name: 'CUSTO', sql: 'DECIMAL(18,4)', type: 'DECIMAL(18,4)', kind: 'decimal' },
      { name: 'SIGLA', sql: 'CHAR(3)', type: 'CHAR(3) CHARACTER SET WIN1252', kind: 'text' },
      { name: 'unicode', sql: 'VARCHAR(20) CHARACTER SET UTF8', type: 'VARCHAR(20) CHARACTER SET UTF8', kind: 'text' },
      { name: 'QTD', sql: 'SMALLINT', type: 'SMALLINT', kind: 'integer' },
    ],
    rows: [
      [
        9007199254740993n,
        'Glicemia: 99 mg/dL',
        Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0x0a, 0x0d]),
        '07:45:30.1234',
        3.141592653589793,
        0.1,
        '12345678901234.5678',
        'ABC',
        'São Paulo ☃ 東京',
        -32768,
      ],
      [42, 'Colesterol "alto"', Buffer.alloc(25_000, 0xab), '23:59:59', -0.5, 1.5, '-0.0001', 'É  ', 'ñ', 32767],
      [-7, null, null, null, null, null, null, null, null, null],
    ],
  },
  {
    name: 'VAZIA',
    columns: [
      { name: 'ID', sql: 'INTEGER', type: 'INTEGER', kind: 'integer' },
      { name: 'DESCRICAO', sql: 'VARCHAR(10)', type: 'VARCHAR(10) CHARACTER SET WIN1252', kind: 'text' },
    ],
    rows: [],
  },
];

/** What is in the sample database besides its tables: a view and a computed column, which a converter must skip. */
const SAMPLE_EXTRAS = [
  `CREATE VIEW PACIENTES_ATIVOS AS SELECT ID, NOME FROM PACIENTES WHERE ATIVO;`,
  `ALTER TABLE VAZIA ADD DOBRO COMPUTED BY (ID * 2);`,
  'COMMIT;',
].join('\n');

const run = (file: string, args: string[], server: FirebirdFixtureServer, input?: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { env: { ...process.env, ISC_USER: server.user, ISC_PASSWORD: server.password }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => (error ? reject(new Error(`${file} ${args.join(' ')} failed: ${stderr || stdout || error.message}`)) : resolve(stdout)),
    );
    if (input !== undefined) child.stdin?.end(input);
  });

const remote = (server: FirebirdFixtureServer, path: string): string => `${server.host}/${server.port}:${path}`;

/** Runs an isql script (UTF-8 text: the connection's character set is UTF8) against a database, or none. */
export function isql(server: FirebirdFixtureServer, script: string, database?: string): Promise<string> {
  // -ch for the attachment made from the command line, SET NAMES for the one CREATE DATABASE makes.
  return run('isql-fb', ['-q', '-bail', '-ch', 'UTF8', ...(database ? [remote(server, database)] : [])], server, `SET NAMES UTF8;\n${script}\n`);
}

/** Creates a database (an absolute path the server writes) with a default character set, then runs the script in it. */
export async function createFirebirdDatabase(server: FirebirdFixtureServer, path: string, script: string, charset = 'WIN1252'): Promise<void> {
  await isql(server, `CREATE DATABASE '${remote(server, path)}' PAGE_SIZE 8192 DEFAULT CHARACTER SET ${charset};\n${script}`);
}

/** A gbak backup of a database. */
export async function backupFirebirdDatabase(server: FirebirdFixtureServer, database: string, backup: string): Promise<void> {
  await run('gbak', ['-b', remote(server, database), backup], server);
}

/** The sample database in `dir`: `sample.fdb` and its backup `sample.fbk`. */
export async function createSampleDatabase(server: FirebirdFixtureServer, dir: string): Promise<{ fdb: string; fbk: string; tables: FixtureTable[] }> {
  const fdb = join(dir, 'sample.fdb');
  const fbk = join(dir, 'sample.fbk');
  await createFirebirdDatabase(server, fdb, [...SAMPLE_TABLES.map(fixtureTableSql), SAMPLE_EXTRAS].join('\n'));
  await backupFirebirdDatabase(server, fdb, fbk);
  return { fdb, fbk, tables: SAMPLE_TABLES };
}

/** The columns of every table of the rows database, and the value of row `i` (0-based) of each. */
export const ROWS_COLUMNS: FixtureColumn[] = [
  { name: 'ID', sql: 'BIGINT NOT NULL', type: 'BIGINT', kind: 'integer' },
  { name: 'NOME', sql: 'VARCHAR(60)', type: 'VARCHAR(60) CHARACTER SET WIN1252', kind: 'text' },
  { name: 'VALOR', sql: 'NUMERIC(12,2)', type: 'NUMERIC(12,2)', kind: 'decimal' },
  { name: 'CRIADO', sql: 'TIMESTAMP', type: 'TIMESTAMP', kind: 'timestamp' },
  { name: 'ATIVO', sql: 'BOOLEAN', type: 'BOOLEAN', kind: 'boolean' },
  { name: 'NOTA', sql: 'VARCHAR(80)', type: 'VARCHAR(80) CHARACTER SET WIN1252', kind: 'text' },
];

const ROWS_EPOCH = Date.UTC(2020, 0, 1);

/** Row `i` of a table of the rows database, as the source reads it back. */
export function rowsDatabaseRow(i: number): FixtureValue[] {
  return [i, `paciente ${i} ação`, (i * 0.25).toFixed(2), new Date(ROWS_EPOCH + i * 1000), i % 2 === 0, i % 10 === 0 ? null : `observação número ${i % 97}`];
}

/**
 * A database of `rows` rows spread over `tables` tables (ROWS_1, ROWS_2, …; the first takes the remainder), filled
 * inside the engine, with forced writes off while it fills. Row values follow rowsDatabaseRow.
 */
export async function createRowsDatabase(server: FirebirdFixtureServer, path: string, rows: number, tables = 1): Promise<void> {
  const columns = ROWS_COLUMNS.map((column) => `${column.name} ${column.sql}`).join(', ');
  await createFirebirdDatabase(server, path, '');
  await run('gfix', ['-write', 'async', remote(server, path)], server);
  const per = Math.floor(rows / tables);
  const script: string[] = [];
  for (let table = 1; table <= tables; table++) {
    const count = table === 1 ? rows - per * (tables - 1) : per;
    script.push(
      `CREATE TABLE ROWS_${table} (${columns});`,
      'COMMIT;',
      'SET TERM ^;',
      `EXECUTE BLOCK AS DECLARE i BIGINT = 0; BEGIN
         WHILE (i < ${count}) DO BEGIN
           INSERT INTO ROWS_${table} VALUES (:i, 'paciente ' || :i || ' ação', :i * 0.25,
             DATEADD(:i SECOND TO TIMESTAMP '2020-01-01 00:00:00'), MOD(:i, 2) = 0,
             IIF(MOD(:i, 10) = 0, NULL, 'observação número ' || MOD(:i, 97)));
           i = i + 1;
         END
       END^`,
      'SET TERM ;^',
      'COMMIT;',
    );
  }
  await isql(server, script.join('\n'), path);
}

/**
 * A copy of a real database whose header page claims another on-disk structure, as a database of an older engine
 * would: ODS 10 and 11 keep the minor version at byte 62, ODS 12 at byte 64. The rest of the file is untouched.
 */
export async function craftOdsHeader(source: string, target: string, odsMajor: number, odsMinor: number, firebird = true): Promise<void> {
  await copyFile(source, target);
  const handle = await open(target, 'r+');
  try {
    const header = Buffer.alloc(68);
    await handle.read(header, 0, header.length, 0);
    header.writeUInt16LE(odsMajor | (firebird ? 0x8000 : 0), 18);
    if (odsMajor >= 12) header.writeUInt16LE(odsMinor, 64);
    else {
      header.writeUInt16LE(0, 60);
      header.writeUInt16LE(odsMinor, 62);
      header.writeUInt16LE(odsMinor, 64);
    }
    await handle.write(header, 0, header.length, 0);
  } finally {
    await handle.close();
  }
}

/** A copy of a database with the ODS 12 header's "encrypted" flag set, as a database encrypted with a key plugin has. */
export async function craftEncryptedHeader(source: string, target: string): Promise<void> {
  await copyFile(source, target);
  const handle = await open(target, 'r+');
  try {
    const flags = Buffer.alloc(2);
    await handle.read(flags, 0, 2, 42);
    flags.writeUInt16LE(flags.readUInt16LE(0) | 0x40, 0);
    await handle.write(flags, 0, 2, 42);
  } finally {
    await handle.close();
  }
}

/** The first `fraction` of a file, as an interrupted download or copy leaves it. */
export async function truncateFile(source: string, target: string, fraction = 0.5): Promise<void> {
  const bytes = await readFile(source);
  await writeFile(target, bytes.subarray(0, Math.floor(bytes.length * fraction)));
}
