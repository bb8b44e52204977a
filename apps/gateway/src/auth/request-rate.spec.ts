import { rateLimitKey } from './request-rate.js';

describe('whose request rate a request counts against', () => {
  it('counts an API key by its id, whichever owner it submits as', () => {
    expect(rateLimitKey({ name: 'hdx', role: 'portal', via: 'api-key', keyId: 'k1' }, '10.0.0.1')).toBe('api-key:k1');
    expect(rateLimitKey({ name: 'hdx', role: 'portal', via: 'api-key', keyId: 'k2' }, '10.0.0.1')).not.toBe('api-key:k1');
  });

  it("counts a user's access and temporary tokens together, and a caller without a credential by its address", () => {
    expect(rateLimitKey({ name: 'ana', role: 'admin', via: 'password' }, '10.0.0.1')).toBe('user:ana');
    expect(rateLimitKey({ name: 'ana', role: 'admin', via: 'temporary-token', scope: { methods: ['GET'], paths: ['/jobs'] } }, '10.0.0.2')).toBe('user:ana');
    expect(rateLimitKey(undefined, '10.0.0.1')).toBe('address:10.0.0.1');
  });
});
