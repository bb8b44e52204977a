import { ANALYTICS_COMMAND_CONTRACTS } from '../contracts/analytics.commands.js';
import { validatePayload } from '../broker/message-validation.js';
import { eventsFromHdxSendAnalytics, ga4ParamsFromUa, HdxSendAnalyticsError } from './hdx-send-analytics.js';

const NOW = Date.UTC(2025, 0, 2, 3, 4, 5);
const ids = () => {
  let n = 0;
  return () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
};

/** A resource download as ckanext-hdx_theme sends it, defaults populated. */
const download = {
  event_name: 'resource download',
  send_mixpanel: true,
  mixpanel_token: 'hdx-token',
  mixpanel_tracking_id: 'user-42',
  mixpanel_meta: { 'resource name': 'roads.geojson', 'org name': 'ocha', 'server side': true },
  send_ga: true,
  ga_meta: {
    v: '1',
    t: 'event',
    tid: 'UA-1',
    cid: 'ga-client-7',
    uip: '10.0.0.1',
    ec: 'resource',
    ea: 'download',
    el: 'roads (Roads)',
    ev: '3',
    dl: 'https://data.example.org/dataset/roads',
    cd1: 'ocha',
  },
};

describe('eventsFromHdxSendAnalytics', () => {
  it('makes one Mixpanel event and one GA4 event, each with its own properties and ids', () => {
    const events = eventsFromHdxSendAnalytics(download, NOW, ids());
    expect(events).toEqual([
      {
        insertId: '00000000-0000-4000-8000-000000000001',
        event: 'resource download',
        distinctId: 'user-42',
        time: NOW,
        token: 'hdx-token',
        properties: { 'resource name': 'roads.geojson', 'org name': 'ocha', 'server side': true },
        destinations: ['mixpanel'],
      },
      {
        insertId: '00000000-0000-4000-8000-000000000002',
        event: 'resource download',
        distinctId: 'ga-client-7',
        time: NOW,
        properties: {
          event_category: 'resource',
          event_action: 'download',
          event_label: 'roads (Roads)',
          value: 3,
          page_location: 'https://data.example.org/dataset/roads',
          cd1: 'ocha',
        },
        destinations: ['ga4'],
      },
    ]);
  });

  it('uses HDX defaults: Mixpanel on, GA off, anonymous tracking id, configured token', () => {
    const [event, ...rest] = eventsFromHdxSendAnalytics({ event_name: 'programmatic use' }, NOW, ids());
    expect(rest).toEqual([]);
    expect(event).toMatchObject({ event: 'programmatic use', distinctId: 'anonymous', properties: {}, destinations: ['mixpanel'] });
    expect(event).not.toHaveProperty('token');
  });

  it('reads flags sent as strings and sends nothing when both are off', () => {
    expect(eventsFromHdxSendAnalytics({ event_name: 'x', send_mixpanel: 'false', send_ga: 'true' }, NOW, ids()).map((e) => e.destinations)).toEqual([['ga4']]);
    expect(eventsFromHdxSendAnalytics({ event_name: 'x', send_mixpanel: false, send_ga: false }, NOW, ids())).toEqual([]);
  });

  it('refuses a body without an event name', () => {
    expect(() => eventsFromHdxSendAnalytics({ event_name: ' ' }, NOW, ids())).toThrow(HdxSendAnalyticsError);
  });

  it('gives events that pass the analytics.track contract', () => {
    const events = eventsFromHdxSendAnalytics(download);
    const envelope = { id: '', type: 'analytics.track', version: 1, occurredAt: '', correlationId: 'c', causationId: null, payload: { events } };
    expect(() => validatePayload(ANALYTICS_COMMAND_CONTRACTS['analytics.track'], envelope)).not.toThrow();
  });
});

describe('ga4ParamsFromUa', () => {
  it('drops a non-numeric value and keeps unknown keys as they are', () => {
    expect(ga4ParamsFromUa({ ev: 'lots', foo: 'bar', cid: 'x' })).toEqual({ foo: 'bar' });
  });
});
