import { HostPolicy, isAllowListEntry, isPublicAddress } from './host-policy.js';

describe('host policy', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1'])(
    'treats %s as not public',
    (address) => expect(isPublicAddress(address)).toBe(false),
  );

  it.each(['8.8.8.8', '151.101.1.69', '2606:4700::1111'])('treats %s as public', (address) => expect(isPublicAddress(address)).toBe(true));

  it('refuses loopback and private addresses unless allow-listed', () => {
    const none = new HostPolicy([]);
    expect(none.allows('localhost', '127.0.0.1')).toBe(false);
    expect(none.allows('files.internal', '10.0.0.5')).toBe(false);
    expect(none.allows('example.org', '93.184.216.34')).toBe(true);
  });

  it('allows CIDR ranges, single addresses and exact host names', () => {
    const policy = new HostPolicy(['10.0.0.0/8', '127.0.0.1', 'Files.Internal', 'fd00::/8']);
    expect(policy.allows('anything', '10.200.1.1')).toBe(true);
    expect(policy.allows('anything', '127.0.0.1')).toBe(true);
    expect(policy.allows('anything', '::ffff:127.0.0.1')).toBe(true);
    expect(policy.allows('anything', '127.0.0.2')).toBe(false);
    expect(policy.allows('files.internal', '192.168.3.3')).toBe(true);
    expect(policy.allows('other.internal', '192.168.3.3')).toBe(false);
    expect(policy.allows('x', 'fd12::1')).toBe(true);
  });

  it('validates allow-list entries', () => {
    for (const entry of ['10.0.0.0/8', '127.0.0.1', '::1/128', 'data.example.org', 'localhost']) expect(isAllowListEntry(entry)).toBe(true);
    for (const entry of ['10.0.0.0/33', '10.0.0.0/x', 'http://x', 'a b', '1.2.3.4/8/9', '']) expect(isAllowListEntry(entry)).toBe(false);
  });
});
