import { createHmac } from 'node:crypto';
import { signature } from './followups.service.js';

describe('webhook signature', () => {
  it('is sha256= and the hex HMAC-SHA256 of the exact body under the secret', () => {
    const body = JSON.stringify({ id: 'job', state: 'succeeded' });
    expect(signature('s3cret', body)).toBe(`sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`);
    expect(signature('s3cret', body)).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(signature('other', body)).not.toBe(signature('s3cret', body));
  });
});
