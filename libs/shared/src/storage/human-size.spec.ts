import { humanSize } from './human-size.js';

describe('humanSize', () => {
  it.each([
    [0, '0 B'],
    [1_023, '1023 B'],
    [1_024, '1.0 KiB'],
    [1_536, '1.5 KiB'],
    [1_048_570, '1.0 MiB'], // 1023.99 KiB rounds up to the next unit rather than printing "1024.0 KiB"
    [12 * 1024 * 1024, '12.0 MiB'],
    [5 * 1024 ** 4, '5.0 TiB'],
    [3 * 1024 ** 6, '3072.0 PiB'],
  ])('%d bytes is %s', (bytes, text) => {
    expect(humanSize(bytes)).toBe(text);
  });

  it('refuses what is not a byte count', () => {
    expect(() => humanSize(-1)).toThrow(RangeError);
    expect(() => humanSize(Number.NaN)).toThrow(RangeError);
  });
});
