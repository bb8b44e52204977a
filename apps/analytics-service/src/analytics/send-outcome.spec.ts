import { ga4Outcome, mixpanelOutcome } from './send-outcome.js';

const ids = ['a', 'b', 'c'];

describe('mixpanelOutcome', () => {
  it('takes a 200', () => {
    expect(mixpanelOutcome({ status: 200, body: '{"code":200,"num_records_imported":3,"status":"OK"}' }, ids)).toEqual({ kind: 'accepted', rejected: [] });
    expect(mixpanelOutcome({ status: 200, body: '1' }, ids)).toEqual({ kind: 'accepted', rejected: [] });
  });

  it('retries 429, 5xx and 408, honouring Retry-After', () => {
    expect(mixpanelOutcome({ status: 429, body: 'slow down', retryAfter: '3' }, ids)).toEqual({
      kind: 'retry',
      reason: 'HTTP 429 slow down',
      retryAfterMs: 3_000,
    });
    expect(mixpanelOutcome({ status: 503, body: '' }, ids)).toMatchObject({ kind: 'retry' });
    expect(mixpanelOutcome({ status: 408, body: '' }, ids)).toMatchObject({ kind: 'retry' });
  });

  it('refuses only the failed records of a 400, found by index or by insert id', () => {
    const body = JSON.stringify({
      code: 400,
      error: 'some data points in the request failed validation',
      num_records_imported: 1,
      failed_records: [
        { index: 0, insert_id: 'a', field: 'properties.time', message: "'properties.time' is invalid" },
        { insert_id: 'c', field: 'properties.distinct_id', message: 'is a placeholder' },
      ],
    });
    expect(mixpanelOutcome({ status: 400, body }, ids)).toEqual({
      kind: 'accepted',
      rejected: [
        { index: 0, reason: "Mixpanel 400: properties.time: 'properties.time' is invalid" },
        { index: 2, reason: 'Mixpanel 400: properties.distinct_id: is a placeholder' },
      ],
    });
  });

  it('refuses the whole batch on a 4xx without records, and on a verbose status 0', () => {
    expect(mixpanelOutcome({ status: 401, body: '{"error":"Invalid credentials"}' }, ids).kind).toBe('accepted');
    expect(mixpanelOutcome({ status: 401, body: '{"error":"Invalid credentials"}' }, ids)).toMatchObject({
      rejected: [0, 1, 2].map((index) => ({ index, reason: 'Mixpanel 401: Invalid credentials' })),
    });
    expect(mixpanelOutcome({ status: 200, body: '{"status":0,"error":"token, missing or empty"}' }, ['a'])).toEqual({
      kind: 'accepted',
      rejected: [{ index: 0, reason: 'Mixpanel: token, missing or empty' }],
    });
  });
});

describe('ga4Outcome', () => {
  it('takes 2xx, retries 5xx, refuses the batch on a 4xx', () => {
    expect(ga4Outcome({ status: 204, body: '' }, 2)).toEqual({ kind: 'accepted', rejected: [] });
    expect(ga4Outcome({ status: 500, body: '' }, 2).kind).toBe('retry');
    expect(ga4Outcome({ status: 400, body: 'bad' }, 2)).toEqual({
      kind: 'accepted',
      rejected: [
        { index: 0, reason: 'GA4 400: bad' },
        { index: 1, reason: 'GA4 400: bad' },
      ],
    });
  });
});
