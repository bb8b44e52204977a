const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** A byte count as people read it: `512 B`, `1.5 KiB`, `12.0 MiB` (powers of 1,024, one decimal above bytes). */
export function humanSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`not a byte count: ${bytes}`);
  let unit = 0;
  let value = bytes;
  // 1023.96 KiB would print as "1024.0 KiB": move up once the rounded value reaches 1,024
  while (unit < UNITS.length - 1 && Number(value.toFixed(unit === 0 ? 0 : 1)) >= 1_024) {
    value /= 1_024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}
