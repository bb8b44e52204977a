import { Batcher } from './batcher.js';

describe('Batcher', () => {
  const make = (maxSize: number, delayMs: number, fail?: (key: string) => Error | undefined) => {
    const sent: [string, number[]][] = [];
    const batcher = new Batcher<number>({
      maxSize,
      delayMs,
      keyOf: (n) => (n % 2 === 0 ? 'even' : 'odd'),
      send: async (key, items) => {
        sent.push([key, items]);
        const error = fail?.(key);
        if (error) throw error;
      },
    });
    return { batcher, sent };
  };

  it('sends a batch as soon as it is full, one key per batch, and settles its callers', async () => {
    const { batcher, sent } = make(2, 60_000);
    const settled = [batcher.add(1), batcher.add(2), batcher.add(3), batcher.add(4)];
    await Promise.all(settled);
    expect(sent).toEqual([
      ['odd', [1, 3]],
      ['even', [2, 4]],
    ]);
    expect(batcher.pending).toBe(0);
  });

  it('sends a batch that is not full after its delay', async () => {
    const { batcher, sent } = make(100, 20);
    await Promise.all([batcher.add(2), batcher.add(4)]);
    expect(sent).toEqual([['even', [2, 4]]]);
  });

  it('fails every item of a batch whose send failed, and only those', async () => {
    const { batcher } = make(1, 0, (key) => (key === 'odd' ? new Error('down') : undefined));
    await expect(batcher.add(1)).rejects.toThrow('down');
    await expect(batcher.add(2)).resolves.toBeUndefined();
  });

  it('counts what it holds until the send settles, and flushes everything on demand', async () => {
    const { batcher, sent } = make(100, 60_000);
    const settled = [batcher.add(1), batcher.add(2)];
    expect(batcher.pending).toBe(2);
    await batcher.flushAll();
    await Promise.all(settled);
    expect(sent).toHaveLength(2);
    expect(batcher.pending).toBe(0);
  });
});
