import { randomUUID } from 'node:crypto';
import type { AnalyticsEventV1 } from '../contracts/analytics.commands.js';

/**
 * The body HDX's CKAN posts to `POST /api/send-analytics` (ckanext-hdx_theme's AbstractAnalyticsSender):
 * one portal event, with Mixpanel properties and Universal Analytics Measurement Protocol fields.
 */
export interface HdxSendAnalyticsBody {
  event_name: string;
  send_mixpanel?: boolean | string;
  mixpanel_token?: string | null;
  mixpanel_tracking_id?: string | null;
  mixpanel_meta?: Record<string, unknown> | null;
  send_ga?: boolean | string;
  ga_meta?: Record<string, unknown> | null;
}

export class HdxSendAnalyticsError extends Error {
  override readonly name = 'HdxSendAnalyticsError';
}

/** Universal Analytics parameters and their GA4 event-parameter names. */
const UA_PARAMETERS: Readonly<Record<string, string>> = {
  ec: 'event_category',
  ea: 'event_action',
  el: 'event_label',
  ev: 'value',
  dl: 'page_location',
  dr: 'page_referrer',
  dt: 'page_title',
  dp: 'page_path',
  ds: 'data_source',
  cn: 'campaign',
  cs: 'source',
  cm: 'medium',
  uid: 'user_id',
};

/**
 * UA fields with no GA4 event parameter: protocol version, hit type, the UA property id (GA4 uses the
 * configured measurement id), the client id (it becomes the event's distinctId), the IP override and cache
 * busters.
 */
const UA_ONLY = new Set(['v', 't', 'tid', 'cid', 'uip', 'ua', 'z', 'qt']);

/** HDX defaults (AbstractAnalyticsSender._populate_defaults) for what the portal left out. */
const HDX_ANONYMOUS = 'anonymous';

/** CKAN's Python client sends real booleans; form-minded clients send "true"/"false" or "1"/"0". */
function flag(value: boolean | string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'boolean') return value;
  return ['true', '1', 'yes', 'on'].includes(value.trim().toLowerCase());
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim().length > 0 ? value : undefined);

/** GA4 event parameters from UA Measurement Protocol fields: renamed, UA-only fields dropped, `cdN` kept. */
export function ga4ParamsFromUa(gaMeta: Record<string, unknown>): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(gaMeta)) {
    if (UA_ONLY.has(key) || value === undefined || value === null) continue;
    const name = UA_PARAMETERS[key] ?? key;
    if (name === 'value') {
      const number = Number(value);
      if (Number.isFinite(number)) params.value = number;
    } else {
      params[name] = value;
    }
  }
  return params;
}

/**
 * What HDX's send-analytics body becomes: one event per destination it asks for — Mixpanel gets
 * `mixpanel_meta` under `mixpanel_tracking_id` with the body's token, GA4 gets `ga_meta` translated from
 * Universal Analytics fields under the UA client id (`cid`). Defaults are HDX's own: Mixpanel on, GA off,
 * `anonymous` ids. An empty array when neither destination is asked for.
 */
export function eventsFromHdxSendAnalytics(body: HdxSendAnalyticsBody, now: number = Date.now(), newId: () => string = randomUUID): AnalyticsEventV1[] {
  const event = text(body.event_name);
  if (!event) throw new HdxSendAnalyticsError('event_name is required');
  const events: AnalyticsEventV1[] = [];
  if (flag(body.send_mixpanel, true)) {
    const token = text(body.mixpanel_token);
    events.push({
      insertId: newId(),
      event,
      distinctId: text(body.mixpanel_tracking_id) ?? HDX_ANONYMOUS,
      time: now,
      properties: { ...(body.mixpanel_meta ?? {}) },
      destinations: ['mixpanel'],
      ...(token ? { token } : {}),
    });
  }
  if (flag(body.send_ga, false)) {
    const gaMeta = body.ga_meta ?? {};
    events.push({
      insertId: newId(),
      event,
      distinctId: text(gaMeta.cid) ?? HDX_ANONYMOUS,
      time: now,
      properties: ga4ParamsFromUa(gaMeta),
      destinations: ['ga4'],
    });
  }
  return events;
}
