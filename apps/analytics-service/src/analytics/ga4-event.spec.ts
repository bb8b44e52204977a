import type { AnalyticsEventV1 } from '#shared';
import { ga4Name, toGa4Request } from './ga4-event.js';

const NOW = Date.UTC(2025, 5, 1);
const event = (overrides: Partial<AnalyticsEventV1>): AnalyticsEventV1 => ({
  insertId: '00000000-0000-4000-8000-000000000001',
  event: 'resource download',
  distinctId: 'client-1',
  time: NOW - 1_000,
  properties: {},
  destinations: ['ga4'],
  ...overrides,
});

describe('ga4Name', () => {
  it('makes names GA4 accepts', () => {
    expect(ga4Name('resource download')).toBe('resource_download');
    expect(ga4Name('3d map / view')).toBe('e_3d_map_view');
    expect(ga4Name('x'.repeat(50))).toHaveLength(40);
  });
});

describe('toGa4Request', () => {
  it('builds one request for a client id, with valid params, user id lifted and recent times kept', () => {
    const request = toGa4Request(
      'client-1',
      [
        event({ properties: { event_category: 'resource', 'org name': 'ocha', value: 3, nested: { a: 1 }, user_id: 'u-9', gone: null } }),
        event({ event: 'old', time: NOW - 100 * 3_600_000 }),
      ],
      NOW,
    );
    expect(request).toEqual({
      client_id: 'client-1',
      user_id: 'u-9',
      events: [
        {
          name: 'resource_download',
          params: { event_category: 'resource', org_name: 'ocha', value: 3, nested: '{"a":1}' },
          timestamp_micros: (NOW - 1_000) * 1_000,
        },
        { name: 'old', params: {} },
      ],
    });
  });
});
