import { assertStorageKey, storageKeyOf, storageUri } from './storage.js';

describe('storage keys and storage:// URIs', () => {
  it.each(['a', 'exports/6f1c0d2e/bundle.zip', 'packages/AFG/roads/1.2.0/datapackage.json', 'x=1+y@z/_-.txt', '...hidden/..a'])('takes the key %j', (key) => {
    expect(assertStorageKey(key)).toBe(key);
    expect(storageKeyOf(storageUri(key))).toBe(key);
  });

  it.each(['', '/absolute', '../up', 'a/../../up', 'a/..', './a', 'a/./b', 'a//b', 'a/', 'a\\b', 'a b', 'é', 'a?b', 'x'.repeat(1_025)])(
    'refuses the key %j',
    (key) => {
      expect(() => assertStorageKey(key)).toThrow(RangeError);
    },
  );

  it('reads the key of a storage:// URI only, refusing one with a bad key', () => {
    expect(storageKeyOf('https://example.org/file.zip')).toBeUndefined();
    expect(() => storageKeyOf('storage://../secrets.env')).toThrow(RangeError);
    expect(() => storageUri('/etc/passwd')).toThrow(RangeError);
  });
});
