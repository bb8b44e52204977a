/**
 * What a file's first bytes say about it, before any engine opens it: a gbak backup (its format version) or a Firebird
 * database (its on-disk structure, ODS, read from the header page). Firebird 3 opens ODS 12 only, and a database it
 * cannot open must be refused with a message its owner can act on, so the ODS is read here rather than left to the
 * server's "unsupported on-disk structure".
 */

/** The gbak backup format that Firebird 3's gbak writes; it restores this one and every older one. */
export const FIREBIRD3_BACKUP_FORMAT = 10;
/** The on-disk structure Firebird 3 opens. */
export const FIREBIRD3_ODS_MAJOR = 12;

export type FirebirdFile =
  | { kind: 'backup'; format: number }
  | {
      kind: 'database';
      odsMajor: number;
      odsMinor: number;
      /** Firebird sets 0x8000 in the ODS version since 2.0; InterBase never does. */
      firebird: boolean;
      pageSize: number;
      /** Written on a big-endian machine (SPARC, POWER): no little-endian engine opens it. */
      bigEndian: boolean;
      /** Encrypted with a key plugin (ODS 12 flag). */
      encrypted: boolean;
    };

const PAGE_TYPE_HEADER = 1;
const PAGE_SIZES = new Set([1024, 2048, 4096, 8192, 16384, 32768]);
const ODS_FIREBIRD_FLAG = 0x8000;
const HDR_ENCRYPTED = 0x40; // ODS 12 header flags
const HDR_CRYPT_PROCESS = 0x04;

/**
 * A gbak backup starts with its `rec_burp` record: record type 0, then the attribute `att_backup_format` (2) as a
 * 4-byte little-endian number (4 = its length). Every gbak since InterBase writes this first.
 */
function inspectBackup(head: Buffer): FirebirdFile | null {
  if (head.length < 7 || head[0] !== 0 || head[1] !== 2 || head[2] !== 4) return null;
  const format = head.readUInt32LE(3);
  return format >= 1 && format <= 64 ? { kind: 'backup', format } : null;
}

/**
 * Page 0 of a database is its header page: type 1, the page size at byte 16 and the ODS version at byte 18 (both 16
 * bits, in the writing machine's byte order). The ODS minor version sits at byte 64 from ODS 12 on, at byte 62 before.
 */
function inspectDatabase(head: Buffer): FirebirdFile | null {
  if (head.length < 68 || head[0] !== PAGE_TYPE_HEADER) return null;
  for (const bigEndian of [false, true]) {
    const u16 = (offset: number) => (bigEndian ? head.readUInt16BE(offset) : head.readUInt16LE(offset));
    const pageSize = u16(16);
    const version = u16(18);
    const odsMajor = version & ~ODS_FIREBIRD_FLAG;
    if (!PAGE_SIZES.has(pageSize) || odsMajor < 8 || odsMajor > 20) continue;
    const flags = u16(42);
    return {
      kind: 'database',
      odsMajor,
      odsMinor: u16(odsMajor >= 12 ? 64 : 62),
      firebird: (version & ODS_FIREBIRD_FLAG) !== 0,
      pageSize,
      bigEndian,
      encrypted: odsMajor >= 12 && (flags & (HDR_ENCRYPTED | HDR_CRYPT_PROCESS)) !== 0,
    };
  }
  return null;
}

/** What the file is, or null when it is neither a gbak backup nor a Firebird/InterBase database. */
export function inspectFirebirdFile(head: Buffer): FirebirdFile | null {
  return inspectBackup(head) ?? inspectDatabase(head);
}

/** The release that writes an ODS: `Firebird 2.5`, `InterBase 6 or Firebird 1.0`. */
export function odsRelease(odsMajor: number, odsMinor: number, firebird: boolean): string {
  if (!firebird && odsMajor >= 11) return 'InterBase';
  const releases: Record<string, string> = {
    '10.0': 'InterBase 6 or Firebird 1.0',
    '10.1': 'Firebird 1.5',
    '11.0': 'Firebird 2.0',
    '11.1': 'Firebird 2.1',
    '11.2': 'Firebird 2.5',
    '12.0': 'Firebird 3',
    '13.0': 'Firebird 4',
    '13.1': 'Firebird 5',
  };
  return releases[`${odsMajor}.${odsMinor}`] ?? (odsMajor > 13 ? 'Firebird 6 or later' : `an unknown release`);
}

/** The release whose gbak writes a backup format (for messages about formats Firebird 3 cannot restore). */
export function backupFormatRelease(format: number): string {
  return format > FIREBIRD3_BACKUP_FORMAT ? 'Firebird 4 or later' : format === FIREBIRD3_BACKUP_FORMAT ? 'Firebird 3' : 'Firebird 2.5 or older';
}

/** The engine line of a database Firebird 3 reads: `Firebird 3 (ODS 12.0)`. */
export function engineName(file: FirebirdFile): string {
  return file.kind === 'database' ? `Firebird 3 (ODS ${file.odsMajor}.${file.odsMinor})` : `Firebird 3 (restored from a gbak backup, format ${file.format})`;
}

const BACKUP_ADVICE = 'make a backup with gbak -b (any Firebird version can) and convert the .fbk';

/** Why Firebird 3 cannot read this file, in words its owner can act on; null when it can. */
export function unreadableReason(file: FirebirdFile): string | null {
  if (file.kind === 'backup') {
    if (file.format <= FIREBIRD3_BACKUP_FORMAT) return null;
    return (
      `this is a gbak backup of format ${file.format} (${backupFormatRelease(file.format)}); Firebird 3 restores format ` +
      `${FIREBIRD3_BACKUP_FORMAT} and older: make the backup with the gbak of Firebird 3 (gbak -b run against your server) and convert that .fbk`
    );
  }
  const ods = `ODS ${file.odsMajor}.${file.odsMinor}`;
  if (file.bigEndian) {
    return `this is a Firebird database of on-disk structure ${ods} written on a big-endian machine; Firebird 3 here reads little-endian ODS 12 only: ${BACKUP_ADVICE}`;
  }
  if (file.odsMajor !== FIREBIRD3_ODS_MAJOR) {
    const what = file.firebird || file.odsMajor === 10 ? 'a Firebird' : 'an InterBase';
    // A newer engine's gbak writes a backup format Firebird 3 cannot restore; Firebird 3's own gbak, run against
    // that server, writes one it can.
    const advice =
      file.odsMajor > FIREBIRD3_ODS_MAJOR ? 'make a backup with the gbak of Firebird 3 (gbak -b run against your server) and convert the .fbk' : BACKUP_ADVICE;
    return `this is ${what} database of on-disk structure ${ods} (${odsRelease(file.odsMajor, file.odsMinor, file.firebird)}); Firebird 3 reads ODS 12 only: ${advice}`;
  }
  if (file.encrypted) {
    return (
      'this Firebird database is encrypted, and its key plugin and key are not here: make an unencrypted backup with gbak -b ' +
      'on the server that holds the key and convert the .fbk'
    );
  }
  return null;
}
