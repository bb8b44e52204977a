import type { LookupAddress } from 'node:dns';
import { addressKind, HostPolicy, isAllowListEntry, isPublicAddress, type Resolver } from './host-policy.js';

describe('host policy', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1'])(
    'treats %s as not public',
    (address) => expect(isPublicAddress(address)).toBe(false),
  );

  it.each(['8.8.8.8', '151.101.1.69', '2606:4700::1111'])('treats %s as public', (address) => expect(isPublicAddress(address)).toBe(true));

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['0.0.0.0', 'reserved'],
    ['::', 'reserved'],
    ['224.0.0.1', 'reserved'],
    ['172.32.0.1', 'public'],
    ['::ffff:8.8.8.8', 'public'],
    // found by the property tests: IPv4-compatible and IPv4-translated forms passed as public
    ['::169.254.169.254', 'reserved'],
    ['::7f00:1', 'reserved'],
    ['::ffff:0:127.0.0.1', 'reserved'],
    ['not-an-address', null],
  ])('classes %s as %s', (address, kind) => expect(addressKind(address)).toBe(kind));

  it('refuses loopback, private and link-local addresses unless allow-listed', () => {
    const none = new HostPolicy([]);
    expect(none.allows('localhost', '127.0.0.1')).toBe(false);
    expect(none.allows('files.internal', '10.0.0.5')).toBe(false);
    expect(none.allows('metadata.google.internal', '169.254.169.254')).toBe(false);
    expect(none.allows('x', '::ffff:169.254.169.254')).toBe(false);
    expect(none.allows('example.org', '93.184.216.34')).toBe(true);
    expect(none.refusal('169.254.169.254', '169.254.169.254')?.message).toBe(
      '169.254.169.254 is a link-local address: not a public address and not in GEOJOBS_ALLOWED_HOSTS',
    );
    expect(none.refusal('localhost', '::1')).toMatchObject({ name: 'AddressNotAllowedError', hostname: 'localhost', address: '::1', kind: 'loopback' });
    expect(none.refusal('example.org', '93.184.216.34')).toBeNull();
  });

  it('allows CIDR ranges, single addresses and exact host names', () => {
    const policy = new HostPolicy(['10.0.0.0/8', '127.0.0.1', 'Files.Internal', 'fd00::/8']);
    expect(policy.allows('anything', '10.200.1.1')).toBe(true);
    expect(policy.allows('anything', '11.0.0.1')).toBe(true); // public anyway
    expect(policy.allows('anything', '127.0.0.1')).toBe(true);
    expect(policy.allows('anything', '::ffff:127.0.0.1')).toBe(true);
    expect(policy.allows('anything', '127.0.0.2')).toBe(false);
    expect(policy.allows('anything', '192.168.3.3')).toBe(false);
    expect(policy.allows('files.internal', '192.168.3.3')).toBe(true);
    expect(policy.allows('[files.internal]', '192.168.3.3')).toBe(true);
    expect(policy.allows('other.internal', '192.168.3.3')).toBe(false);
    expect(policy.allows('sub.files.internal', '192.168.3.3')).toBe(false); // exact names, no suffixes
    expect(policy.allows('x', 'fd12::1')).toBe(true);
    expect(policy.allows('x', 'fe80::1')).toBe(false);
  });

  it('validates allow-list entries', () => {
    for (const entry of ['10.0.0.0/8', '127.0.0.1', '::1/128', 'data.example.org', 'localhost']) expect(isAllowListEntry(entry)).toBe(true);
    for (const entry of ['10.0.0.0/33', '10.0.0.0/x', 'http://x', 'a b', '1.2.3.4/8/9', '']) expect(isAllowListEntry(entry)).toBe(false);
  });

  describe('lookup (what the HTTP client connects with)', () => {
    const answering =
      (addresses: string[]): Resolver =>
      (_hostname, _options, callback) =>
        callback(
          null,
          addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })),
        );
    const lookup = (policy: HostPolicy, hostname: string, all: boolean) =>
      new Promise<{ error: Error | null; result: unknown }>((resolve) =>
        policy.lookup(hostname, { all }, (error: Error | null, address: unknown, family?: number) =>
          resolve({ error, result: all ? address : { address, family } }),
        ),
      );

    it('hands over the address it checked', async () => {
      expect(await lookup(new HostPolicy([], answering(['93.184.216.34'])), 'example.org', false)).toEqual({
        error: null,
        result: { address: '93.184.216.34', family: 4 },
      });
      expect((await lookup(new HostPolicy([], answering(['93.184.216.34', '2606:2800::1'])), 'example.org', true)).result).toEqual([
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800::1', family: 6 },
      ]);
    });

    it('refuses a name with any address the policy does not allow', async () => {
      const { error } = await lookup(new HostPolicy([], answering(['93.184.216.34', '10.0.0.7'])), 'mixed.example', true);
      expect(error).toMatchObject({
        name: 'AddressNotAllowedError',
        message: 'mixed.example (10.0.0.7) is a private address: not a public address and not in GEOJOBS_ALLOWED_HOSTS',
      });
      expect((await lookup(new HostPolicy(['mixed.example'], answering(['10.0.0.7'])), 'mixed.example', false)).error).toBeNull();
    });
  });
});
