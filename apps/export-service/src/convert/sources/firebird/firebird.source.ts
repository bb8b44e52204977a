import { basename } from 'node:path';
import type { Logger } from 'pino';
import Firebird, { GDSCode, type Database, type Options, type Transaction } from 'node-firebird';
import { stopOnAbort } from '../../../formats/vector-layer.js';
import { ConvertInputError, type SourceTable, type SourceValue, type TableSource } from '../../table-source.js';
import {
  decodeBytes,
  decodeText,
  decodeValue,
  planColumn,
  scalarText,
  selectRows,
  UnsupportedCharsetError,
  type FirebirdColumn,
  type FirebirdFieldDescription,
} from './firebird-columns.js';

/** Where the Firebird server runs and how to log in (scripts/infra.sh starts it; GEOJOBS_FIREBIRD_* in the config). */
export interface FirebirdServer {
  host: string;
  port: number;
  user: string;
  password: string;
}

interface FirebirdTable extends SourceTable {
  columns: FirebirdColumn[];
}

/** Attach errors that say something about the file rather than the server: the job fails with the engine's words. */
const INPUT_ERRORS = new Set<number>([GDSCode.BAD_DB_FORMAT, GDSCode.WRONG_ODS, GDSCode.IO_ERROR, GDSCode.DB_CORRUPT, GDSCode.BAD_CHECKSUM, GDSCode.SHUTDOWN]);

/** How long a login may take (it takes 20 ms here) before it is abandoned for a new one, and how many are made. */
const ATTACH_TIMEOUT_MS = 10_000;
const ATTACH_ATTEMPTS = 3;

/**
 * Rows the stream holds ahead of the consumer before node-firebird stops fetching (it fetches 200 a round trip). At
 * 400, rows waited long enough to outlive young-generation collections, and the Firebird rounds of bench:convert
 * added 33–49 MB to export-service's peak; at 100, 6 MB, in as much time.
 */
const ROWS_AHEAD = 100;

/**
 * SQL text as the connection sends it. The connection's character set is NONE, so node-firebird writes each character
 * of the text as one byte (Latin-1); identifiers are stored in UTF-8 (UNICODE_FSS), so their UTF-8 bytes go as such.
 */
const wire = (sql: string): string => Buffer.from(sql, 'utf8').toString('latin1');
/** Metadata text (UNICODE_FSS, blank-padded CHAR) from the bytes the connection hands over. */
const metadataText = (value: unknown): string => (value === null || value === undefined ? '' : decodeText(scalarText(value), 'utf8').trimEnd());

/** A Firebird 3 database attached on the server: its user tables, each streamed through a cursor. */
export class FirebirdTableSource implements TableSource {
  private constructor(
    private readonly database: Database,
    readonly engine: string,
    readonly charset: string,
    private readonly list: FirebirdTable[],
  ) {}

  /**
   * Attaches the database at `path` (a path on the server's machine, which is this one) and reads its tables.
   * The connection's character set is NONE: each column's text is decoded with its own character set (firebird-columns).
   * The login is bounded (see attachDatabase); `signal` stops it.
   */
  static async attach(
    server: FirebirdServer,
    path: string,
    { engine, signal, logger }: { engine: string; signal: AbortSignal; logger?: Logger },
  ): Promise<FirebirdTableSource> {
    const options: Options = {
      host: server.host,
      port: server.port,
      database: path,
      user: server.user,
      password: server.password,
      encoding: 'NONE',
      numericMode: 'string',
      // blobReadChunkSize stays at its default (1 KB a round trip): node-firebird 2.17 misreads a BLOB segment reply
      // longer than one 8 KB socket read (RangeError in XdrReader), so larger segments break on BLOBs over 8 KB.
    };
    const database = await attachDatabase(options, signal, { logger });
    try {
      const transaction = await database.startTransactionAsync({ readOnly: true, isolation: Firebird.ISOLATION_REPEATABLE_READ });
      try {
        const [row] = await transaction.executeAsync<unknown[]>('SELECT RDB$CHARACTER_SET_NAME FROM RDB$DATABASE');
        const charset = metadataText(row?.[0]) || 'NONE';
        return new FirebirdTableSource(database, engine, charset, await readTables(transaction, charset));
      } finally {
        await transaction.rollbackAsync();
      }
    } catch (error) {
      await database.detachAsync().catch(() => undefined);
      if (error instanceof UnsupportedCharsetError) throw new ConvertInputError(error.message);
      throw error;
    }
  }

  tables(): Promise<SourceTable[]> {
    return Promise.resolve(this.list.map((table) => ({ name: table.name, columns: table.columns.map(({ name, type, kind }) => ({ name, type, kind })) })));
  }

  /**
   * The table's rows through one cursor of a read-only snapshot transaction (node-firebird fetches 200 rows a round
   * trip and pauses while the consumer is behind). One table at a time per source: the rows share its attachment.
   */
  async *rows(table: SourceTable, signal: AbortSignal): AsyncIterable<SourceValue[]> {
    const found = this.list.find((candidate) => candidate.name === table.name);
    if (!found) throw new Error(`no table "${table.name}" in this Firebird database`);
    signal.throwIfAborted();
    const columns = found.columns;
    const transaction = await this.database.startTransactionAsync({ readOnly: true, isolation: Firebird.ISOLATION_REPEATABLE_READ });
    const stream = transaction.queryStream(wire(selectRows(found.name, columns)), [], { asObject: false, highWaterMark: ROWS_AHEAD });
    const abort = () => stream.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', abort, { once: true });
    try {
      for await (const fetched of stream as AsyncIterable<unknown[]>) {
        const row = new Array<SourceValue>(columns.length);
        for (let index = 0; index < columns.length; index++) {
          const column = columns[index];
          const value = fetched[index];
          if (column.decoder === 'text-blob' || column.decoder === 'binary-blob') {
            const bytes = value === null || value === undefined ? null : await readBlob(value, transaction);
            row[index] = bytes === null ? null : column.decoder === 'binary-blob' ? bytes : decodeBytes(bytes, column.encoding ?? 'guess');
          } else {
            row[index] = decodeValue(column, value);
          }
        }
        yield row;
      }
      signal.throwIfAborted();
    } finally {
      signal.removeEventListener('abort', abort);
      stream.destroy();
      await transaction.rollbackAsync().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.database.detachAsync();
  }
}

/** User tables (no system tables, views, external or temporary tables) with their stored columns, in name order. */
async function readTables(transaction: Transaction, databaseCharset: string): Promise<FirebirdTable[]> {
  const rows = await transaction.executeAsync<unknown[]>(
    `SELECT r.RDB$RELATION_NAME, rf.RDB$FIELD_NAME, f.RDB$FIELD_TYPE, f.RDB$FIELD_SUB_TYPE, f.RDB$FIELD_LENGTH,
            f.RDB$CHARACTER_LENGTH, f.RDB$FIELD_PRECISION, f.RDB$FIELD_SCALE, cs.RDB$CHARACTER_SET_NAME, f.RDB$DIMENSIONS,
            IIF(f.RDB$COMPUTED_BLR IS NULL, 0, 1)
       FROM RDB$RELATIONS r
       JOIN RDB$RELATION_FIELDS rf ON rf.RDB$RELATION_NAME = r.RDB$RELATION_NAME
       JOIN RDB$FIELDS f ON f.RDB$FIELD_NAME = rf.RDB$FIELD_SOURCE
       LEFT JOIN RDB$CHARACTER_SETS cs ON cs.RDB$CHARACTER_SET_ID = f.RDB$CHARACTER_SET_ID
      WHERE COALESCE(r.RDB$SYSTEM_FLAG, 0) = 0 AND r.RDB$VIEW_BLR IS NULL AND r.RDB$EXTERNAL_FILE IS NULL
        AND COALESCE(r.RDB$RELATION_TYPE, 0) = 0
      ORDER BY r.RDB$RELATION_NAME, rf.RDB$FIELD_POSITION, rf.RDB$FIELD_NAME`,
  );
  const tables = new Map<string, FirebirdTable>();
  const number = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
  for (const row of rows) {
    const name = metadataText(row[0]);
    const field: FirebirdFieldDescription = {
      name: metadataText(row[1]),
      fieldType: Number(row[2]),
      subType: number(row[3]),
      length: number(row[4]),
      charLength: number(row[5]),
      precision: number(row[6]),
      scale: number(row[7]),
      charset: row[8] === null ? null : metadataText(row[8]),
      dimensions: number(row[9]),
      computed: Number(row[10]) === 1,
    };
    const column = planColumn(field, databaseCharset);
    if (!column) continue;
    const table = tables.get(name) ?? { name, columns: [] };
    table.columns.push(column);
    tables.set(name, table);
  }
  return [...tables.values()];
}

type BlobReader = (transaction: Transaction, callback: (error: unknown, name: unknown, stream: NodeJS.EventEmitter) => void) => void;

/** A BLOB's bytes, read segment by segment within the row's transaction. */
function readBlob(reader: unknown, transaction: Transaction): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    (reader as BlobReader)(transaction, (error, _name, stream) => {
      if (error) return reject(error instanceof Error ? error : new Error('reading a BLOB failed', { cause: error }));
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => resolve(Buffer.concat(chunks)));
      stream.on('error', reject);
    });
  });
}

/**
 * Attaches, giving a login `timeoutMs` before abandoning it for a new one, ATTACH_ATTEMPTS times in all.
 * node-firebird 2.17 can wait forever in the SRP login: bench:convert hung twice in about 36 attaches of a freshly
 * copied database (none in 400 attaches of one file in a loop), its connection still pending `connect` with the
 * server's last reply read, the server waiting for the client. A new connection is a new login, with new SRP keys.
 */
export async function attachDatabase(
  options: Options,
  signal: AbortSignal,
  { logger, timeoutMs = ATTACH_TIMEOUT_MS }: { logger?: Logger; timeoutMs?: number } = {},
): Promise<Database> {
  for (let attempt = 1; ; attempt++) {
    signal.throwIfAborted();
    const attaching = Firebird.attachAsync(options);
    // The connection attachAsync has just made (set synchronously). When the attach fails or is abandoned node-firebird
    // keeps its socket, and once that closes it reconnects and attaches again every second: marked detached, it lets go.
    const connection = Firebird.connection;
    const letGo = async () => {
      if (!connection) return;
      connection._isDetach = true;
      connection.disconnect();
    };
    const stalled = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
    try {
      return await stopOnAbort(attaching, stalled, letGo);
    } catch (error) {
      // aborted, stopOnAbort has let the connection go already
      if (signal.aborted) throw signal.reason;
      if (!stalled.aborted) {
        await letGo();
        throw attachError(error, options.database ?? '');
      }
      if (attempt === ATTACH_ATTEMPTS) {
        throw new Error(`the Firebird server did not complete the login in ${timeoutMs / 1000} s, ${ATTACH_ATTEMPTS} times over`, { cause: error });
      }
      logger?.warn({ attempt, timeoutMs }, 'the Firebird login stalled; logging in again on a new connection');
    }
  }
}

/** A failed attach: the file's fault (a readable ConvertInputError without the scratch path) or the server's. */
function attachError(error: unknown, path: string): Error {
  const code = (error as { gdscode?: number }).gdscode;
  if (!(error instanceof Error)) return new Error('attaching the Firebird database failed', { cause: error });
  const message = error.message;
  if (code !== undefined && INPUT_ERRORS.has(code)) {
    return new ConvertInputError(`Firebird cannot open this database: ${message.replaceAll(path, basename(path))}`);
  }
  return error;
}
