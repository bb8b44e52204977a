import type { ColumnKind, SourceValue } from '../table-source.js';

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

/** `YYYY-MM-DD` of a Date, read in UTC: sources make calendar dates as UTC midnights, so no zone shifts the day. */
export const isoDate = (date: Date): string => `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;

/**
 * One value as the text of its CSV field (before quoting, which csv-stringify does): NULL as empty, dates
 * `YYYY-MM-DD`, timestamps ISO 8601, binary base64, text BLOBs as text. A source that gives a string for a date,
 * time or geometry has already written it in that form, so strings pass as they are.
 */
export function csvValue(value: SourceValue, kind: ColumnKind): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return '';
    return kind === 'date' ? isoDate(value) : value.toISOString();
  }
  return kind === 'text' ? value.toString('utf8') : value.toString('base64');
}
