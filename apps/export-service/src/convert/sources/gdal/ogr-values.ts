import type { ColumnKind, SourceValue } from '../../table-source.js';

/** How one OGR field type is written: its README type name, its column kind, and its value as a CSV can take it. */
export interface OgrFieldPlan {
  type: string;
  kind: ColumnKind;
  value: (raw: unknown) => SourceValue;
  /**
   * Read as OGR's own text of the value (OGR SQL's `CAST(… AS character)`): date-times and times, whose objects from
   * gdal-async hold whole seconds only (it reads them through GDAL's integer-seconds call), while OGR's text keeps
   * the milliseconds.
   */
  readAsText?: true;
}

/** gdal-async's date and time values (`fields.toArray`); OGR's `timezone`: 0 unknown, 1 local, 100 UTC, 100 ± n quarters of an hour. */
interface OgrDateTime {
  year?: number;
  month?: number;
  day?: number;
  hour?: number;
  minute?: number;
  second?: number;
  timezone?: number;
}

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

const isoDay = (value: OgrDateTime): string => `${pad(value.year ?? 0, 4)}-${pad(value.month ?? 1)}-${pad(value.day ?? 1)}`;

const isoTime = (value: OgrDateTime): string => `${pad(value.hour ?? 0)}:${pad(value.minute ?? 0)}:${pad(value.second ?? 0)}`;

/** OGR's time zone flag as ISO 8601: nothing when unknown or local (nothing truthful to write), `Z`, or `±HH:MM`. */
export function isoZone(timezone: number | undefined): string {
  if (timezone === undefined || timezone <= 1) return '';
  if (timezone === 100) return 'Z';
  const minutes = (timezone - 100) * 15;
  const sign = minutes < 0 ? '-' : '+';
  return `${sign}${pad(Math.floor(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;
}

/**
 * OGR's text of a date-time (`OGRFeature::GetFieldAsString`: `2024/05/06 07:08:09.123+0530`, the fraction only when
 * there is one, the zone only when known: `+00` for UTC, `±HH` or `±HHMM` else) as ISO 8601; any other text as it is.
 */
const OGR_DATE_TIME = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?:([+-])(\d{2})(\d{2})?)?$/;

export function isoFromOgrText(text: string): string {
  const match = OGR_DATE_TIME.exec(text);
  if (!match) return text;
  const [, year, month, day, time, sign, hours, minutes] = match;
  const zone = sign === undefined ? '' : hours === '00' && minutes === undefined ? 'Z' : `${sign}${hours}:${minutes ?? '00'}`;
  return `${year}-${month}-${day}T${time}${zone}`;
}

const isDateObject = (raw: unknown): raw is OgrDateTime => typeof raw === 'object' && raw !== null && !Buffer.isBuffer(raw);

const asIs = (raw: unknown): SourceValue => (raw === undefined ? null : (raw as SourceValue));

/** Text as it is; anything else GDAL hands a text column (a number, a list) as it prints, or as JSON. */
const textOf = (raw: unknown): SourceValue => {
  if (raw === null || raw === undefined) return null;
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' || typeof raw === 'bigint' || typeof raw === 'boolean') return String(raw);
  return JSON.stringify(raw);
};

/**
 * A date, date-time or time as ISO 8601 text: from OGR's text (see `readAsText`; a time's is ISO 8601 already) or
 * gdal-async's object (whole seconds: for a table OGR SQL cannot name, see gdal-table-source).
 */
const dateValue = (format: (value: OgrDateTime) => string) => (raw: unknown) =>
  isDateObject(raw) ? format(raw) : typeof raw === 'string' ? isoFromOgrText(raw) : textOf(raw);

/** Binary fields: bytes as they are (written base64); OGR hands some formats' BLOBs as hex text. */
const binaryValue = (raw: unknown): SourceValue => {
  if (raw === null || raw === undefined) return null;
  if (Buffer.isBuffer(raw)) return raw;
  const text = textOf(raw) as string;
  return /^(?:[0-9A-Fa-f]{2})*$/.test(text) ? Buffer.from(text, 'hex') : text;
};

/** Lists (IntegerList, StringList …) as JSON arrays, one field. */
const listValue = (raw: unknown): SourceValue => (raw === null || raw === undefined ? null : JSON.stringify(raw));

/**
 * The plan of an OGR field type, as gdal-async names it (`integer`, `integer64`, `real`, `string`, `date`,
 * `dateTime`, `time`, `binary`, the lists). Integer64 values come from gdal-async as JS numbers: exact up to 2^53.
 */
export function ogrFieldPlan(ogrType: string, width = 0): OgrFieldPlan {
  switch (ogrType) {
    case 'integer':
      return { type: 'Integer', kind: 'integer', value: asIs };
    case 'integer64':
      return { type: 'Integer64', kind: 'integer', value: asIs };
    case 'real':
      return { type: 'Real', kind: 'float', value: asIs };
    case 'string':
      return { type: width > 0 ? `String(${width})` : 'String', kind: 'text', value: textOf };
    case 'date':
      return { type: 'Date', kind: 'date', value: dateValue(isoDay) };
    case 'dateTime':
      return {
        type: 'DateTime',
        kind: 'timestamp',
        value: dateValue((value) => `${isoDay(value)}T${isoTime(value)}${isoZone(value.timezone)}`),
        readAsText: true,
      };
    case 'time':
      return { type: 'Time', kind: 'time', value: dateValue(isoTime), readAsText: true };
    case 'binary':
      return { type: 'Binary', kind: 'binary', value: binaryValue };
    default:
      if (/list$/i.test(ogrType)) return { type: ogrType.replace(/^./, (c) => c.toUpperCase()), kind: 'text', value: listValue };
      return { type: ogrType, kind: 'text', value: textOf };
  }
}
