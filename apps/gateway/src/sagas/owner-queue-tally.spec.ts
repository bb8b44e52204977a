import { OwnerQueueTally, QUEUE_COUNT_TTL_MS } from './owner-queue-tally.js';

describe('OwnerQueueTally', () => {
  let now = 0;
  const tally = () => new OwnerQueueTally(() => now);
  beforeEach(() => {
    now = 1_000;
  });

  it('reserves nothing for an owner it has not counted', () => {
    expect(tally().reserve('a', 1, 1_000, 0)).toBe(false);
  });

  it('reserves while the last count and what was reserved since leave room for the jobs and the headroom', () => {
    const t = tally();
    t.counted('a', t.mark('a', 5), 90, 5); // 95 unfinished
    expect(t.reserve('a', 3, 100, 2)).toBe(true); // 95 + 3 + 2 = 100
    t.release('a', 3, 3);
    expect(t.reserve('a', 1, 100, 2)).toBe(false); // 98 + 1 + 2 > 100: count
  });

  it('gives back the room of jobs that were not inserted (duplicates, a rollback)', () => {
    const t = tally();
    t.counted('a', t.mark('a', 0), 0, 0);
    expect(t.reserve('a', 10, 20, 0)).toBe(true);
    t.release('a', 10, 4);
    expect(t.reserve('a', 16, 20, 0)).toBe(true); // 4 + 16
    expect(t.reserve('a', 1, 20, 0)).toBe(false);
  });

  it('uses a count for QUEUE_COUNT_TTL_MS only', () => {
    const t = tally();
    t.counted('a', t.mark('a', 0), 0, 0);
    now += QUEUE_COUNT_TTL_MS + 1;
    expect(t.reserve('a', 1, 100, 0)).toBe(false);
  });

  it('keeps on top of a new count what was in flight when it began, and what was reserved while it ran', () => {
    const t = tally();
    t.counted('a', t.mark('a', 0), 0, 0);
    expect(t.reserve('a', 10, 100, 0)).toBe(true); // in flight, not yet committed
    const mark = t.mark('a', 2); // a counting submission begins
    expect(t.reserve('a', 7, 100, 0)).toBe(true); // reserved while it counts
    t.release('a', 10, 10);
    t.release('a', 7, 7);
    t.counted('a', mark, 0, 2); // its count saw none of them
    // 2 + 10 + 7 = 19 at most: room for 81
    expect(t.reserve('a', 81, 100, 0)).toBe(true);
    expect(t.reserve('a', 1, 100, 0)).toBe(false);
  });

  it('keeps a later count when an earlier one ends after it, and its jobs in that count', () => {
    const t = tally();
    const first = t.mark('a', 3);
    now += 1;
    const second = t.mark('a', 1); // sees the first's 3 in flight
    t.counted('a', second, 50, 1); // 50 + 1 + 3
    t.counted('a', first, 10, 3); // older: ignored
    expect(t.reserve('a', 46, 100, 0)).toBe(true);
    expect(t.reserve('a', 1, 100, 0)).toBe(false);
  });

  it('forgets nothing in flight of an abandoned submission beyond its own jobs', () => {
    const t = tally();
    t.counted('a', t.mark('a', 0), 0, 0);
    const refused = t.mark('a', 5);
    t.abandoned('a', refused);
    const next = t.mark('a', 1);
    t.counted('a', next, 0, 1);
    expect(t.reserve('a', 99, 100, 0)).toBe(true); // the refused 5 are neither in flight nor on top
  });
});
