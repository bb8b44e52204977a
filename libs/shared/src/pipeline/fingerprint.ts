import { createHash } from 'node:crypto';

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * JSON with object keys sorted at every level, so that two inputs equal as data (whatever order their keys
 * were written in) give the same text. Arrays keep their order: it is meaningful.
 */
export function canonicalJson(value: unknown): string {
  const json = JSON.stringify(value, (_key, item: unknown) =>
    isPlainObject(item)
      ? Object.fromEntries(
          Object.keys(item)
            .sort()
            .map((key) => [key, item[key]]),
        )
      : item,
  );
  // JSON.stringify gives undefined for undefined, functions and symbols: they all stand for "nothing".
  return json ?? 'null';
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The stable fingerprint of a JSON input: the SHA-256 of its canonical JSON. */
export const fingerprint = (input: unknown): string => sha256(canonicalJson(input));
