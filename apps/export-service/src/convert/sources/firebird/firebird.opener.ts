import { mkdir, open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { ExportConfig } from '../../../config/export.config.js';
import { ConvertInputError, type TableSource, type TableSourceOpener } from '../../table-source.js';
import { engineName, inspectFirebirdFile, unreadableReason } from './firebird-file.js';
import { restoreBackup } from './firebird-restore.js';
import { FirebirdTableSource, type FirebirdServer } from './firebird.source.js';

/** The bytes that tell a backup or a database: the gbak header, the database header page's first fields. */
const HEAD_BYTES = 128;

/** The Firebird server of the config; its password is absent when no server was set up. */
export function firebirdServer(config: ExportConfig): Partial<FirebirdServer> & Omit<FirebirdServer, 'password'> {
  return {
    host: config.GEOJOBS_FIREBIRD_HOST,
    port: config.GEOJOBS_FIREBIRD_PORT,
    user: config.GEOJOBS_FIREBIRD_USER,
    password: config.GEOJOBS_FIREBIRD_PASSWORD,
  };
}

/**
 * Firebird databases (ODS 12, attached where they lie) and gbak backups of any Firebird version (restored with gbak
 * into the job's scratch folder, then attached), read through the Firebird 3 server of scripts/infra.sh. That server
 * opens the files itself: it runs on this machine, as this service's user, so the scratch folder is its to read and
 * write. Older on-disk structures, newer backup formats and encrypted databases are refused from their first bytes,
 * with what to do instead.
 */
export class FirebirdOpener implements TableSourceOpener {
  readonly name = 'firebird';

  constructor(
    private readonly server: Partial<FirebirdServer> & Omit<FirebirdServer, 'password'>,
    private readonly logger?: Logger,
  ) {}

  recognises(head: Buffer): boolean {
    return inspectFirebirdFile(head) !== null;
  }

  async open(path: string, scratchDir: string, signal: AbortSignal): Promise<TableSource> {
    const { password } = this.server;
    if (!password) throw new Error('no Firebird server is configured (GEOJOBS_FIREBIRD_PASSWORD is not set; scripts/infra.sh env prints it)');
    const server: FirebirdServer = { ...this.server, password };
    const file = inspectFirebirdFile(await readHead(path));
    if (!file) throw new ConvertInputError('this file is neither a Firebird database nor a gbak backup');
    const reason = unreadableReason(file);
    if (reason) throw new ConvertInputError(reason);

    let database = resolve(path);
    if (file.kind === 'backup') {
      const folder = resolve(scratchDir, 'firebird');
      await mkdir(folder, { recursive: true });
      database = join(folder, 'restored.fdb');
      await restoreBackup(server, resolve(path), database, signal);
    }
    signal.throwIfAborted();
    return FirebirdTableSource.attach(server, database, { engine: engineName(file), signal, logger: this.logger });
  }
}

async function readHead(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
