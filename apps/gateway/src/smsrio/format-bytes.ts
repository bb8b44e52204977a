const LABELS = ['', 'K', 'M', 'G', 'T', 'P'];

/**
 * A size as SMS-Rio's API printed it (`utils.format_bytes`): divided by 1,024 while it is over 1,024, two decimals, a
 * K/M/G label, `924.34 MB`. Its quirks kept, so clients that read the numbers back get what they always got: exactly
 * 1,024 bytes is `1024.00 B`, and bytes have decimals too (`12.00 B`). Geojobs' own listings use humanSize (KiB, MiB).
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`not a byte count: ${bytes}`);
  let size = bytes;
  let power = 0;
  while (size > 1_024 && power < LABELS.length - 1) {
    size /= 1_024;
    power += 1;
  }
  return `${size.toFixed(2)} ${LABELS[power]}B`;
}
