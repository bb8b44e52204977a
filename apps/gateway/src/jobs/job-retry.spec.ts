import { retryRefusal, retryRequest } from './job-retry.js';

describe('retryRefusal', () => {
  it('retries failed and cancelled top-level jobs', () => {
    expect(retryRefusal({ state: 'failed', parent_id: null })).toBeUndefined();
    expect(retryRefusal({ state: 'cancelled', parent_id: null })).toBeUndefined();
  });

  it('refuses jobs still going or that succeeded, and subtasks', () => {
    expect(retryRefusal({ state: 'running', parent_id: null })).toMatch(/it is running/);
    expect(retryRefusal({ state: 'succeeded', parent_id: null })).toMatch(/it is succeeded/);
    expect(retryRefusal({ state: 'failed', parent_id: 'p' })).toMatch(/retry the saga/);
  });
});

describe('retryRequest', () => {
  it('keeps the type, input, followups and saga policy', () => {
    const followups = { onFailure: [{ type: 'webhook', url: 'http://x' }] };
    expect(retryRequest({ type: 'noop', input: { service: 'geo' }, followups, saga: { policy: 'fail-fast', deadlineSeconds: 30, total: 3 } })).toEqual({
      type: 'noop',
      input: { service: 'geo' },
      followups,
      saga: { policy: 'fail-fast', deadlineSeconds: 30 },
    });
  });

  it('sends no saga options for a job that had none', () => {
    expect(retryRequest({ type: 'noop', input: {}, followups: {}, saga: null }).saga).toBeUndefined();
  });
});
