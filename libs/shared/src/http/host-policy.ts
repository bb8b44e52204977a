import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { ValidatorConstraint, type ValidatorConstraintInterface } from 'class-validator';

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

type Family = 'ipv4' | 'ipv6';
const familyOf = (address: string): Family | null => (({ 4: 'ipv4', 6: 'ipv6' }) as const)[isIP(address) as 4 | 6] ?? null;

/** `10.0.0.0/8`, `::1/128`, or a bare address (a range of one). */
function parseRange(entry: string): { address: string; prefix: number; family: Family } | null {
  const [address, prefixText, ...rest] = entry.split('/');
  const family = familyOf(address);
  if (!family || rest.length > 0) return null;
  const max = family === 'ipv4' ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d+$/.test(prefixText))) return null;
  return { address, prefix, family };
}

export const isAllowListEntry = (entry: string): boolean => parseRange(entry) !== null || HOSTNAME.test(entry);

@ValidatorConstraint({ name: 'allowListEntries' })
export class AllowListEntries implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return Array.isArray(value) && value.every((entry) => typeof entry === 'string' && isAllowListEntry(entry));
  }

  defaultMessage(): string {
    return 'must be a comma-separated list of host names, IP addresses or CIDR ranges';
  }
}

/** Why an address is not public; the refusal names it, so an operator knows what an allow-list entry would open. */
export type AddressKind = 'loopback' | 'private' | 'link-local' | 'reserved';

/**
 * Addresses an outbound request must never reach unless allow-listed, by kind. Link-local holds the cloud metadata
 * services (169.254.169.254, fd00:ec2::254 is in fc00::/7); "reserved" is what no public server answers on, and the
 * IPv6 forms that embed an IPv4 address other than the mapped one (which is classed as its IPv4 address).
 */
const NOT_PUBLIC: Readonly<Record<AddressKind, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  private: ['10.0.0.0/8', '100.64.0.0/10', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
  'link-local': ['169.254.0.0/16', 'fe80::/10'],
  reserved: [
    '0.0.0.0/8',
    '192.0.0.0/24',
    '192.0.2.0/24',
    '198.18.0.0/15',
    '198.51.100.0/24',
    '203.0.113.0/24',
    '224.0.0.0/4',
    '240.0.0.0/4',
    '::/128',
    '::/96', // IPv4-compatible (deprecated): `::169.254.169.254` must not pass as public
    '::ffff:0:0:0/96', // IPv4-translated (SIIT), the same
    '64:ff9b::/96',
    '100::/64',
    '2001:db8::/32',
    'ff00::/8',
  ],
};

const toBlockList = (ranges: Iterable<{ address: string; prefix: number; family: Family }>): BlockList => {
  const list = new BlockList();
  for (const { address, prefix, family } of ranges) list.addSubnet(address, prefix, family);
  return list;
};

const KINDS = (Object.keys(NOT_PUBLIC) as AddressKind[]).map((kind) => ({ kind, list: toBlockList(NOT_PUBLIC[kind].map((entry) => parseRange(entry)!)) }));

/** `::ffff:127.0.0.1` is 127.0.0.1. */
const unmapped = (address: string): string => {
  const match = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return match ? match[1] : address;
};

/** The kind of a non-public address, `public` for any other, `null` for something that is no IP address. */
export function addressKind(address: string): AddressKind | 'public' | null {
  const plain = unmapped(address);
  const family = familyOf(plain);
  if (!family) return null;
  return KINDS.find(({ list }) => list.check(plain, family))?.kind ?? 'public';
}

export function isPublicAddress(address: string): boolean {
  return addressKind(address) === 'public';
}

/** The address a request would reach is not public and not allow-listed: retrying cannot change that. */
export class AddressNotAllowedError extends Error {
  override readonly name = 'AddressNotAllowedError';

  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly kind: AddressKind | 'invalid',
  ) {
    super(`${hostname === address ? address : `${hostname} (${address})`} is a ${kind} address: not a public address and not in GEOJOBS_ALLOWED_HOSTS`);
  }
}

/** Every address a name has (`dns.lookup` with `all: true`). */
export type Resolver = (
  hostname: string,
  options: LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * GEOJOBS_ALLOWED_HOSTS: host names (matched exactly, case-insensitive) and address ranges that outbound requests to
 * addresses users gave (downloads, webhooks, callbacks, the CKAN result_url) may reach although they are private,
 * loopback or link-local. Public addresses are always allowed.
 */
export class HostPolicy {
  private readonly hosts: Set<string>;
  private readonly ranges: BlockList;

  /** `resolve` is the system's resolver; a test may answer names its own way. */
  constructor(
    entries: readonly string[],
    private readonly resolve: Resolver = dnsLookup,
  ) {
    const ranges = entries.map(parseRange).filter((range) => range !== null);
    this.ranges = toBlockList(ranges);
    this.hosts = new Set(entries.filter((entry) => parseRange(entry) === null).map((entry) => entry.toLowerCase()));
  }

  /** Whether a connection to `address`, resolved from `hostname`, is allowed. */
  allows(hostname: string, address: string): boolean {
    if (isPublicAddress(address)) return true;
    if (this.hosts.has(hostname.toLowerCase().replace(/^\[|\]$/g, ''))) return true;
    const plain = unmapped(address);
    const family = familyOf(plain);
    return family !== null && this.ranges.check(plain, family);
  }

  /** The refusal of a connection to `address`, resolved from `hostname`; null when it is allowed. */
  refusal(hostname: string, address: string): AddressNotAllowedError | null {
    if (this.allows(hostname, address)) return null;
    const kind = addressKind(address);
    return new AddressNotAllowedError(hostname, address, kind === null || kind === 'public' ? 'invalid' : kind);
  }

  /**
   * A DNS lookup for `net.connect` (and so for undici's connector) that resolves like the system does, then refuses
   * the connection if any address the name has is one this policy does not allow. The socket connects to an address
   * checked here, so DNS cannot answer one thing for the check and another for the connection. An IP literal is
   * never looked up: check it with `refusal(host, host)` before connecting.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const refused = addresses.map((entry) => this.refusal(hostname, entry.address)).find((refusal) => refusal !== null);
      if (refused) return callback(refused, '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}
