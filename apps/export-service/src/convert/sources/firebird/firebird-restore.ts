import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { ConvertInputError } from '../../table-source.js';
import type { FirebirdServer } from './firebird.source.js';

/** How much of gbak's output is kept for the error message. */
const OUTPUT_TAIL = 8_192;

/**
 * gbak's options for a restore that is read once and thrown away: indexes left inactive (nothing to build: every
 * table is read in full), validity constraints dropped (old databases often hold rows their later NOT NULL or CHECK
 * forbids, and a restore would stop on them), and the database marked read-only (no transaction or garbage-collection
 * writes while it is read).
 */
export const RESTORE_OPTIONS = ['-create_database', '-inactive', '-no_validity', '-mode', 'read_only'];

/** gbak's words that mean the server or the login failed, not the backup. */
const SERVER_FAILURES = [
  /user name and password are not defined/i,
  /unable to complete network request/i,
  /connection (refused|rejected)/i,
  /failed to establish/i,
];

/**
 * Restores a gbak backup into `target` (an absolute path on the server's machine, in the job's scratch folder), with
 * the gbak client reading the backup here and the server writing the database. The password goes through the
 * environment (ISC_PASSWORD), not the process list. Stops gbak when the signal fires; the caller removes the folder.
 */
export async function restoreBackup(server: FirebirdServer, backup: string, target: string, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  const child = spawn('gbak', [...RESTORE_OPTIONS, backup, `${server.host}/${server.port}:${target}`], {
    env: { ...process.env, ISC_USER: server.user, ISC_PASSWORD: server.password },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const stop = () => child.kill('SIGTERM');
  signal.addEventListener('abort', stop, { once: true });
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (exitCode) => resolve(exitCode));
    });
    signal.throwIfAborted();
    if (code !== 0) throw restoreError(output, backup, target);
  } catch (error) {
    await rm(target, { force: true }); // what a failed restore wrote
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error('gbak is not installed (scripts/install.sh installs firebird3.0-utils)', { cause: error });
    throw error;
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

/** gbak's error lines ("gbak: ERROR:…", "ERROR: …"), without the prefix and without the scratch paths. */
export function gbakErrors(output: string, paths: string[] = []): string {
  const lines = output
    .split(/\r?\n/)
    .map((line) => /ERROR:\s*(.*)$/i.exec(line)?.[1]?.trim() ?? '')
    .filter((line) => line && !/^exiting before completion/i.test(line));
  let text = [...new Set(lines)].join('; ') || output.trim().split('\n').slice(-3).join('; ');
  for (const path of paths) text = text.replaceAll(path, basename(path));
  return text;
}

/** A failed restore: the backup's fault (cut short, damaged, not a backup) as a ConvertInputError, else the server's. */
export function restoreError(output: string, backup: string, target: string): Error {
  const errors = gbakErrors(output, [backup, target]);
  if (SERVER_FAILURES.some((pattern) => pattern.test(output))) return new Error(`gbak could not reach the Firebird server: ${errors}`);
  // At the end of a cut file gbak asks for the next volume of a multi-volume backup, then gives up.
  if (/backup incomplete|done with volume|unexpected end of file/i.test(output)) {
    return new ConvertInputError(`this gbak backup is incomplete: the file ends before the backup does (a cut download or copy?); gbak said: ${errors}`);
  }
  return new ConvertInputError(`this gbak backup could not be restored (it is damaged): ${errors}`);
}
