import type { AnalyticsEventV1 } from '#shared';

/** GA4 Measurement Protocol limits: names, parameters per event, string lengths, events per request, age. */
export const GA4_LIMITS = { nameLength: 40, params: 25, valueLength: 100, eventsPerRequest: 25, maxAgeMs: 72 * 3_600_000 } as const;

export interface Ga4Event {
  name: string;
  params: Record<string, string | number>;
  timestamp_micros?: number;
}

export interface Ga4Request {
  client_id: string;
  user_id?: string;
  events: Ga4Event[];
}

/** A GA4 name: letters, digits and underscores, starting with a letter, at most 40 characters. */
export function ga4Name(name: string): string {
  const cleaned = name
    .trim()
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  const lettered = /^[A-Za-z]/.test(cleaned) ? cleaned : `e_${cleaned}`;
  return lettered.slice(0, GA4_LIMITS.nameLength);
}

function ga4Value(value: unknown): string | number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') return value.slice(0, GA4_LIMITS.valueLength);
  if (typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return undefined;
  return JSON.stringify(value).slice(0, GA4_LIMITS.valueLength);
}

/**
 * One GA4 event: the name and parameter names made valid, values as strings (≤ 100 characters) or numbers,
 * at most 25 parameters; the event time kept when GA4 still takes it (72 hours), else GA4 uses arrival time.
 */
export function toGa4Event(event: AnalyticsEventV1, now: number = Date.now()): Ga4Event {
  const params: Record<string, string | number> = {};
  for (const [key, raw] of Object.entries(event.properties)) {
    if (key === 'user_id' || Object.keys(params).length >= GA4_LIMITS.params) continue;
    const value = ga4Value(raw);
    if (value !== undefined) params[ga4Name(key)] = value;
  }
  const fresh = now - event.time < GA4_LIMITS.maxAgeMs;
  return { name: ga4Name(event.event), params, ...(fresh ? { timestamp_micros: event.time * 1_000 } : {}) };
}

/** One Measurement Protocol request: events of one client id (the events' distinctId); `user_id` from the first that has one. */
export function toGa4Request(clientId: string, events: AnalyticsEventV1[], now: number = Date.now()): Ga4Request {
  const userId = events.map((event) => event.properties.user_id).find((id): id is string => typeof id === 'string' && id.length > 0);
  return { client_id: clientId, ...(userId ? { user_id: userId } : {}), events: events.map((event) => toGa4Event(event, now)) };
}
