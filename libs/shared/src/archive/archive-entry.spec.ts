import { checkArchiveEntry, checkArchiveSize } from './archive-entry.js';

const LINK = (0o120777 << 16) >>> 0;
const FILE = (0o100644 << 16) >>> 0;

describe('archive entry checks', () => {
  it.each(['a.shp', 'folder/nested/b.shp', './c.kml'])('accepts %s', (name) => {
    expect(checkArchiveEntry(name, FILE).ok).toBe(true);
  });

  it.each([
    ['../evil.shp', 'escapes'],
    ['a/../../evil.shp', 'escapes'],
    ['x/../y.shp', 'escapes'],
    ['..\\evil.shp', 'escapes'],
    ['/etc/passwd', 'absolute'],
    ['C:\\Windows\\evil.dll', 'absolute'],
    ['\\\\server\\share\\x', 'absolute'],
  ])('refuses %s (%s)', (name, reason) => {
    const verdict = checkArchiveEntry(name, FILE);
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.reason).toContain(reason);
  });

  it('refuses symbolic links', () => {
    const verdict = checkArchiveEntry('link.shp', LINK);
    expect(verdict).toEqual({ ok: false, reason: '"link.shp" is a symbolic link' });
  });

  it('refuses archives over the expanded size, the ratio or the entry count', () => {
    const limits = { maxUnpackedBytes: 1_000, maxRatio: 10, maxEntries: 3 };
    expect(checkArchiveSize({ entries: 2, unpackedBytes: 900, archiveBytes: 100 }, limits)).toBeNull();
    expect(checkArchiveSize({ entries: 2, unpackedBytes: 1_001, archiveBytes: 500 }, limits)).toMatch(/expands to 1001 bytes/);
    expect(checkArchiveSize({ entries: 2, unpackedBytes: 900, archiveBytes: 50 }, limits)).toMatch(/expands 18 times/);
    expect(checkArchiveSize({ entries: 4, unpackedBytes: 10, archiveBytes: 50 }, limits)).toMatch(/4 entries/);
  });
});
