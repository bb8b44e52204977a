import { LruCache } from './lru-cache.js';

describe('LruCache', () => {
  it('evicts the least recently used entries beyond its byte budget', () => {
    const cache = new LruCache<string>(10);
    cache.set('a', 'A', 4);
    cache.set('b', 'B', 4);
    expect(cache.get('a')).toBe('A'); // a is now the most recent
    cache.set('c', 'C', 4);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe('A');
    expect(cache.get('c')).toBe('C');
    expect(cache.size).toBe(8);
  });

  it('never keeps a value larger than the whole budget, and replaces a key in place', () => {
    const cache = new LruCache<string>(10);
    cache.set('big', 'X', 11);
    expect(cache.get('big')).toBeUndefined();
    cache.set('a', 'A', 3);
    cache.set('a', 'A2', 5);
    expect(cache.get('a')).toBe('A2');
    expect(cache.size).toBe(5);
  });
});
