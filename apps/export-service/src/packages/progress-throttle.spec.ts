import { PROGRESS_EVERY_MS, shouldReport } from './progress-throttle.js';

describe('shouldReport', () => {
  it('reports the first progress and the end at once', () => {
    expect(shouldReport(undefined, 0, 0)).toBe(true);
    expect(shouldReport(1_000, 1_001, 100)).toBe(true);
  });

  it('reports at most once a second in between', () => {
    expect(shouldReport(1_000, 1_000 + PROGRESS_EVERY_MS - 1, 50)).toBe(false);
    expect(shouldReport(1_000, 1_000 + PROGRESS_EVERY_MS, 50)).toBe(true);
  });
});
