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

  it("ends the wait with a probe's error", async () => {
    let calls = 0;
    const failing = waitFor(() => {
      if (++calls === 2) throw new Error('the server exited');
      return false;
    }, 'never');
    await expect(failing).rejects.toThrow('the server exited');
    expect(calls).toBe(2);
  });

  it('times out naming what it waited for, asked at the time', async () => {
    let seen = 0;
    const waiting = waitFor(() => (seen++, false), () => `the count to reach 1,000 (it is ${seen})`, { timeoutMs: 50, intervalMs: 5 });
    await expect(waiting).rejects.toThrow(/^timed out after 50 ms waiting for the count to reach 1,000 \(it is [1-9]\d*\)$/);
  });
});
