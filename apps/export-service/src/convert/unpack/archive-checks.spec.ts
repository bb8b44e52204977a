import { checkArchiveEntry, checkArchiveSize } from './archive-checks.js';

describe('archive checks', () => {
  it('refuses entries that leave the folder, absolute paths and links', () => {
    expect(checkArchiveEntry('../evil.shp')).toEqual({ ok: false, reason: '"../evil.shp" escapes the folder' });
    expect(checkArchiveEntry('a\\..\\..\\evil')).toMatchObject({ ok: false });
    expect(checkArchiveEntry('/etc/passwd')).toMatchObject({ ok: false, reason: '"/etc/passwd" is an absolute path' });
    expect(checkArchiveEntry('C:/x')).toMatchObject({ ok: false });
    expect(checkArchiveEntry('link', 0o120777 << 16)).toMatchObject({ ok: false, reason: '"link" is a symbolic link' });
    expect(checkArchiveEntry('data.gdb/a00000001.gdbtable')).toEqual({ ok: true, path: 'data.gdb/a00000001.gdbtable' });
  });

  it('refuses archives over the entry, size or ratio limits', () => {
    const limits = { maxUnpackedBytes: 1_000_000, maxRatio: 100, maxEntries: 10 };
    expect(checkArchiveSize({ entries: 11, unpackedBytes: 10, archiveBytes: 10 }, limits)).toBe('the archive holds 11 entries, over the limit of 10');
    expect(checkArchiveSize({ entries: 1, unpackedBytes: 2_000_000, archiveBytes: 1_000_000 }, limits)).toMatch(/expands to 2000000 bytes/);
    expect(checkArchiveSize({ entries: 1, unpackedBytes: 500_000, archiveBytes: 1_000 }, limits)).toBe(
      'the archive expands 500 times its size, over the limit of 100',
    );
    expect(checkArchiveSize({ entries: 3, unpackedBytes: 5_000, archiveBytes: 1_000 }, limits)).toBeNull();
  });
});
