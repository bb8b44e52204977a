import { backoffDelay, sleep } from './backoff.js';

describe('backoffDelay', () => {
  const policy = { baseMs: 100, maxMs: 1_000 };

  it('doubles per attempt with equal jitter, up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, policy, 0, () => 1))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect([1, 2, 3].map((attempt) => backoffDelay(attempt, policy, 0, () => 0))).toEqual([50, 100, 200]);
  });

  it('waits at least as long as the server asked, within the cap', () => {
    expect(backoffDelay(1, policy, 700, () => 0)).toBe(700);
    expect(backoffDelay(1, policy, 60_000, () => 0)).toBe(1_000);
  });
});

describe('sleep', () => {
  it('stops waiting when the signal aborts', async () => {
    const controller = new AbortController();
    const slept = sleep(60_000, controller.signal);
    controller.abort();
    await expect(slept).resolves.toBeUndefined();
  });
});
