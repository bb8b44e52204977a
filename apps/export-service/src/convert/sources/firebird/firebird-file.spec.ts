import { inspectFirebirdFile, odsRelease, unreadableReason, type FirebirdFile } from './firebird-file.js';

/** A header page as the engine writes it: type 1, page size at 16, ODS at 18, flags at 42, minor at 62 (ODS < 12) or 64. */
function header({
  ods,
  minor,
  pageSize = 8192,
  flags = 0x12,
  bigEndian = false,
}: {
  ods: number;
  minor: number;
  pageSize?: number;
  flags?: number;
  bigEndian?: boolean;
}): Buffer {
  const page = Buffer.alloc(1024);
  const u16 = (value: number, offset: number) => (bigEndian ? page.writeUInt16BE(value, offset) : page.writeUInt16LE(value, offset));
  page[0] = 1;
  u16(pageSize, 16);
  u16(ods, 18);
  u16(flags, 42);
  u16(minor, (ods & 0x7fff) >= 12 ? 64 : 62);
  return page;
}

/** The start of a gbak backup: rec_burp, then att_backup_format with a 4-byte version. */
const backup = (format: number): Buffer => Buffer.from([0, 2, 4, format, 0, 0, 0, 4, 4, 1, 0, 0, 0]);

describe('inspectFirebirdFile', () => {
  it('reads the ODS of a Firebird 3 database from its header page', () => {
    expect(inspectFirebirdFile(header({ ods: 0x800c, minor: 0 }))).toEqual({
      kind: 'database',
      odsMajor: 12,
      odsMinor: 0,
      firebird: true,
      pageSize: 8192,
      bigEndian: false,
      encrypted: false,
    });
  });

  it('reads the ODS minor of older structures where they kept it', () => {
    expect(inspectFirebirdFile(header({ ods: 0x800b, minor: 2 }))).toMatchObject({ odsMajor: 11, odsMinor: 2, firebird: true });
    expect(inspectFirebirdFile(header({ ods: 10, minor: 1, pageSize: 4096 }))).toMatchObject({ odsMajor: 10, odsMinor: 1, firebird: false, pageSize: 4096 });
  });

  it('tells a big-endian database and an encrypted one', () => {
    expect(inspectFirebirdFile(header({ ods: 0x800b, minor: 2, bigEndian: true }))).toMatchObject({ odsMajor: 11, bigEndian: true });
    expect(inspectFirebirdFile(header({ ods: 0x800c, minor: 0, flags: 0x52 }))).toMatchObject({ encrypted: true });
  });

  it('reads the format of a gbak backup', () => {
    expect(inspectFirebirdFile(backup(10))).toEqual({ kind: 'backup', format: 10 });
    expect(inspectFirebirdFile(backup(6))).toEqual({ kind: 'backup', format: 6 });
  });

  it('recognises nothing else', () => {
    expect(inspectFirebirdFile(Buffer.from('SQLite format 3\0'.padEnd(100, ' ')))).toBeNull();
    expect(inspectFirebirdFile(Buffer.from('PK\x03\x04'))).toBeNull();
    expect(inspectFirebirdFile(Buffer.alloc(0))).toBeNull();
    expect(inspectFirebirdFile(header({ ods: 0x800c, minor: 0, pageSize: 1000 }))).toBeNull(); // no such page size
    expect(inspectFirebirdFile(header({ ods: 0x800c, minor: 0 }).subarray(0, 40))).toBeNull(); // too short to tell
  });
});

describe('odsRelease', () => {
  it.each([
    [10, 0, false, 'InterBase 6 or Firebird 1.0'],
    [10, 1, false, 'Firebird 1.5'],
    [11, 0, true, 'Firebird 2.0'],
    [11, 2, true, 'Firebird 2.5'],
    [12, 0, true, 'Firebird 3'],
    [13, 1, true, 'Firebird 5'],
    [11, 0, false, 'InterBase'],
  ])('ODS %i.%i → %s', (major, minor, firebird, release) => {
    expect(odsRelease(major, minor, firebird)).toBe(release);
  });
});

describe('unreadableReason', () => {
  const database = (change: Partial<Extract<FirebirdFile, { kind: 'database' }>>): FirebirdFile => ({
    kind: 'database',
    odsMajor: 12,
    odsMinor: 0,
    firebird: true,
    pageSize: 8192,
    bigEndian: false,
    encrypted: false,
    ...change,
  });

  it('reads ODS 12 and backups of format 10 and older', () => {
    expect(unreadableReason(database({}))).toBeNull();
    expect(unreadableReason({ kind: 'backup', format: 10 })).toBeNull();
    expect(unreadableReason({ kind: 'backup', format: 7 })).toBeNull();
  });

  it('asks for a gbak backup of an older structure, naming the ODS and the release', () => {
    expect(unreadableReason(database({ odsMajor: 11, odsMinor: 2 }))).toBe(
      'this is a Firebird database of on-disk structure ODS 11.2 (Firebird 2.5); Firebird 3 reads ODS 12 only: make a backup with gbak -b (any Firebird version can) and convert the .fbk',
    );
  });

  it('asks for a Firebird 3 backup of a newer structure or backup format', () => {
    expect(unreadableReason(database({ odsMajor: 13, odsMinor: 0 }))).toMatch(/ODS 13\.0 \(Firebird 4\).*the gbak of Firebird 3/);
    expect(unreadableReason({ kind: 'backup', format: 11 })).toMatch(/format 11 \(Firebird 4 or later\).*restores format 10 and older/);
  });

  it('refuses an encrypted or a big-endian database', () => {
    expect(unreadableReason(database({ encrypted: true }))).toMatch(/^this Firebird database is encrypted/);
    expect(unreadableReason(database({ bigEndian: true }))).toMatch(/big-endian/);
  });
});
