import { formatBytes } from './format-bytes.js';

describe("formatBytes (SMS-Rio's format_bytes)", () => {
  it.each([
    [0, '0.00 B'],
    [12, '12.00 B'],
    [1_024, '1024.00 B'],
    [1_025, '1.00 KB'],
    [4_168, '4.07 KB'],
    [5_169_479, '4.93 MB'],
    [969_241_231, '924.34 MB'],
    [5 * 1024 ** 3, '5.00 GB'],
    [3 * 1024 ** 6, '3072.00 PB'],
  ])('%d bytes → %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('refuses what is no byte count', () => {
    expect(() => formatBytes(-1)).toThrow(RangeError);
    expect(() => formatBytes(Number.NaN)).toThrow(RangeError);
  });
});
