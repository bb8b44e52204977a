import { waitFor } from './wait-for.js';

describe('waitFor', () => {
  it('returns the first answer that is something, 0 and empty strings included', async () => {
    const answers = [undefined, null, false, 0];
    expect(await waitFor(() => answers.shift(), 'a number', { intervalMs: 1 })).toBe(0);
    const texts = [false, ''];
    expect(await waitFor(() => texts.shift(), 'a text', { intervalMs: 1 })).toBe('');
  });

  it('runs one asynchronous probe at a time', async () => {
    let running = 0;
    let most = 0;
    let calls = 0;
    const found = await waitFor(
      async () => {
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 15));
        running--;
        return ++calls === 4 && 'done';
      },
      'the fourth call',
      { intervalMs: 1 },
    );
    expect(found).toBe('done');
    expect(most).toBe(1);
  });

  it('asks again after a probe throws, and gives the last error when it times out', async () => {
    let calls = 0;
    const recovered = await waitFor(
      () => {
        if (++calls < 3) throw new Error('connection refused');
        return 'up';
      },
      'the server',
      { intervalMs: 1 },
    );
    expect([recovered, calls]).toEqual(['up', 3]);

    const failing = waitFor(
      () => {
        throw new Error('connection refused');
      },
      'the server',
      { timeoutMs: 30, intervalMs: 5 },
    );
    await expect(failing).rejects.toThrow('timed out after 30 ms waiting for the server (the last probe failed: connection refused)');
  });

  it('times out naming what it waited for, asked at the time', async () => {
    let seen = 0;
    const waiting = waitFor(
      () => (seen++, false),
      () => `the count to reach 1,000 (it is ${seen})`,
      { timeoutMs: 50, intervalMs: 5 },
    );
    await expect(waiting).rejects.toThrow(/^timed out after 50 ms waiting for the count to reach 1,000 \(it is [1-9]\d*\)$/);
  });
});
