import type { LookupAddress } from 'node:dns';
import fc from 'fast-check';
import { addressKind, AddressNotAllowedError, HostPolicy, type Resolver } from './host-policy.js';

/**
 * Properties of the outbound host policy over generated addresses: a loopback, private, link-local or reserved
 * address is refused in every spelling it can reach the policy in, unless allow-listed; a public one is allowed.
 */

type Kind = ReturnType<typeof addressKind>;

/** IPv4 ranges by kind, as numbers: the oracle, written apart from the policy's BlockList. */
const V4_RANGES: [string, number, Exclude<Kind, 'public' | null>][] = [
  ['127.0.0.0', 8, 'loopback'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'private'],
  ['172.16.0.0', 12, 'private'],
  ['192.168.0.0', 16, 'private'],
  ['169.254.0.0', 16, 'link-local'],
  ['0.0.0.0', 8, 'reserved'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['224.0.0.0', 4, 'reserved'],
  ['240.0.0.0', 4, 'reserved'],
];

const toNumber = (dotted: string): number => dotted.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
const octets = (n: number): number[] => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const dotted = (n: number): string => octets(n).join('.');
const inRange = (n: number, base: number, prefix: number): boolean => prefix === 0 || n >>> (32 - prefix) === base >>> (32 - prefix);
const kindOfV4 = (n: number): Kind => V4_RANGES.find(([base, prefix]) => inRange(n, toNumber(base), prefix))?.[2] ?? 'public';

/** Any IPv4 address, half of them drawn from inside the special ranges (169.254.169.254 among them). */
const ipv4 = fc.oneof(
  fc.nat({ max: 0xffffffff }),
  fc
    .tuple(fc.constantFrom(...V4_RANGES), fc.nat({ max: 0xffffffff }))
    .map(([[base, prefix], host]) => ((toNumber(base) >>> 0) | (prefix === 32 ? 0 : host >>> prefix)) >>> 0),
  fc.constant(toNumber('169.254.169.254')),
);

const hex16 = (n: number, upper: boolean) => (upper ? n.toString(16).toUpperCase() : n.toString(16));

/** The spellings of an IPv4 address as an IPv6 one that resolvers and URLs hand over: IPv4-mapped, in every form. */
const mappedSpellings = (n: number, upper: boolean): string[] => {
  const ffff = upper ? 'FFFF' : 'ffff';
  const [high, low] = [hex16(n >>> 16, upper), hex16(n & 0xffff, upper)];
  return [
    dotted(n),
    `::${ffff}:${dotted(n)}`,
    `::${ffff}:${high}:${low}`,
    `0:0:0:0:0:${ffff}:${high}:${low}`,
    `0000:0000:0000:0000:0000:${ffff}:${dotted(n)}`,
    `0::${ffff}:${high}:${low}`,
  ];
};

/** The spellings a URL's host may give an IPv4 address in (decimal, hex, octal, short): WHATWG URL reads them all. */
const urlSpellings = (n: number): string[] => {
  const [a, b, c, d] = octets(n);
  return [
    String(n),
    `0x${n.toString(16)}`,
    octets(n)
      .map((part) => `0${part.toString(8)}`)
      .join('.'),
    octets(n)
      .map((part) => `0x${part.toString(16)}`)
      .join('.'),
    `${a}.${(b << 16) | (c << 8) | d}`,
    `${a}.${b}.${(c << 8) | d}`,
    `[::ffff:${dotted(n)}]`,
  ];
};

describe('host policy, by property', () => {
  const none = new HostPolicy([]);

  it('classes every IPv4 address as its range says, in every IPv4-mapped IPv6 spelling too', () => {
    fc.assert(
      fc.property(ipv4, fc.boolean(), (n, upper) => {
        for (const spelling of mappedSpellings(n, upper)) expect([spelling, addressKind(spelling)]).toEqual([spelling, kindOfV4(n)]);
      }),
    );
  });

  it('never takes for public an IPv6 form that embeds an IPv4 address other than mapped (compatible, translated)', () => {
    fc.assert(
      fc.property(ipv4, fc.boolean(), (n, upper) => {
        const [high, low] = [hex16(n >>> 16, upper), hex16(n & 0xffff, upper)];
        for (const spelling of [
          `::${dotted(n)}`,
          `::${high}:${low}`,
          `::${upper ? 'FFFF' : 'ffff'}:0:${dotted(n)}`,
          `0:0:0:0:${upper ? 'FFFF' : 'ffff'}:0:${high}:${low}`,
        ]) {
          expect([spelling, none.allows(spelling, spelling)]).toEqual([spelling, false]);
        }
      }),
    );
  });

  it('refuses a not-public IPv4 address in any spelling a URL takes, and allows a public one', () => {
    fc.assert(
      fc.property(ipv4, (n) => {
        for (const spelling of urlSpellings(n)) {
          const host = new URL(`http://${spelling}/`).hostname.replace(/^\[|\]$/g, '');
          const refusal = none.refusal(host, host);
          if (kindOfV4(n) === 'public') expect(refusal).toBeNull();
          else expect([spelling, refusal?.kind]).toEqual([spelling, kindOfV4(n)]);
        }
      }),
    );
  });

  it('refuses loopback, link-local, unique-local and reserved IPv6 addresses in any spelling', () => {
    const ipv6 = fc.oneof(
      fc.constant<[number[], Kind]>([[0, 0, 0, 0, 0, 0, 0, 1], 'loopback']),
      fc
        .array(fc.nat({ max: 0xffff }), { minLength: 7, maxLength: 7 })
        .map((rest): [number[], Kind] => [[0xfe80 | (rest[0] & 0x3f), ...rest.slice(1), rest[0]], 'link-local']),
      fc
        .array(fc.nat({ max: 0xffff }), { minLength: 7, maxLength: 7 })
        .map((rest): [number[], Kind] => [[0xfc00 | (rest[0] & 0x1ff), ...rest.slice(1), rest[0]], 'private']),
      fc
        .array(fc.nat({ max: 0xffff }), { minLength: 7, maxLength: 7 })
        .map((rest): [number[], Kind] => [[0xff00 | (rest[0] & 0xff), ...rest.slice(1), rest[0]], 'reserved']),
    );
    fc.assert(
      fc.property(ipv6, fc.boolean(), ([groups, kind], upper) => {
        const full = groups.map((group) => hex16(group, upper)).join(':');
        const padded = groups.map((group) => hex16(group, upper).padStart(4, '0')).join(':');
        const compressed = new URL(`http://[${full}]/`).hostname.slice(1, -1);
        for (const spelling of [full, padded, compressed]) expect([spelling, none.refusal(spelling, spelling)?.kind]).toEqual([spelling, kind]);
      }),
    );
  });

  it('allows a not-public address exactly when a CIDR range of the allow-list holds it, in any spelling', () => {
    fc.assert(
      fc.property(ipv4, ipv4, fc.integer({ min: 8, max: 32 }), fc.boolean(), (n, base, prefix, upper) => {
        const network = prefix === 32 ? base : ((base >>> (32 - prefix)) << (32 - prefix)) >>> 0;
        const policy = new HostPolicy([`${dotted(network)}/${prefix}`]);
        const expected = kindOfV4(n) === 'public' || inRange(n, network, prefix);
        for (const spelling of mappedSpellings(n, upper)) expect([spelling, policy.allows('some.host', spelling)]).toEqual([spelling, expected]);
      }),
    );
  });

  it('allows a host name only as the allow-list spells it (any case), never a name around it', () => {
    const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/);
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 3 }), label, ipv4, fc.boolean(), (labels, extra, n, upper) => {
        fc.pre(kindOfV4(n) !== 'public');
        const name = labels.join('.');
        const policy = new HostPolicy([name]);
        expect(policy.allows(upper ? name.toUpperCase() : name, dotted(n))).toBe(true);
        expect(policy.allows(`${extra}.${name}`, dotted(n))).toBe(false);
        expect(policy.allows(`${name}.${extra}`, dotted(n))).toBe(false);
      }),
    );
  });

  it('refuses a name when any address it resolves to is not public, whatever the order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(ipv4, { minLength: 1, maxLength: 4 }), fc.boolean(), async (addresses, mapped) => {
        const answers: LookupAddress[] = addresses.map((n) => (mapped ? { address: `::ffff:${dotted(n)}`, family: 6 } : { address: dotted(n), family: 4 }));
        const resolve: Resolver = (_hostname, _options, callback) => callback(null, answers);
        const policy = new HostPolicy([], resolve);
        const error = await new Promise<Error | null>((done) => policy.lookup('files.example', { all: true }, (failure) => done(failure)));
        if (addresses.every((n) => kindOfV4(n) === 'public')) expect(error).toBeNull();
        else expect(error).toBeInstanceOf(AddressNotAllowedError);
      }),
    );
  });
});
