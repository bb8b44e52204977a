import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { ValidatorConstraint, type ValidatorConstraintInterface } from 'class-validator';

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

type Family = 'ipv4' | 'ipv6';
const familyOf = (address: string): Family | null => ({ 4: 'ipv4', 6: 'ipv6' } as const)[isIP(address) as 4 | 6] ?? null;

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

/** Addresses a download or a webhook must never reach unless allow-listed: loopback, private, link-local, reserved. */
const NOT_PUBLIC: ReadonlyArray<string> = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24',
  '192.0.2.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4',
  '::/128', '::1/128', '64:ff9b::/96', '100::/64', '2001:db8::/32', 'fc00::/7', 'fe80::/10', 'ff00::/8',
];

const toBlockList = (ranges: Iterable<{ address: string; prefix: number; family: Family }>): BlockList => {
  const list = new BlockList();
  for (const { address, prefix, family } of ranges) list.addSubnet(address, prefix, family);
  return list;
};

const notPublic = toBlockList(NOT_PUBLIC.map((entry) => parseRange(entry)!));

/** `::ffff:127.0.0.1` is 127.0.0.1. */
const unmapped = (address: string): string => {
  const match = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return match ? match[1] : address;
};

export function isPublicAddress(address: string): boolean {
  const plain = unmapped(address);
  const family = familyOf(plain);
  if (!family) return false;
  return !notPublic.check(plain, family);
}

/**
 * GEOJOBS_ALLOWED_HOSTS: host names (matched exactly, case-insensitive) and address ranges that downloads and webhooks may
 * reach although they are private or loopback. Public addresses are always allowed.
 */
export class HostPolicy {
  private readonly hosts: Set<string>;
  private readonly ranges: BlockList;

  constructor(entries: readonly string[]) {
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

  /**
   * A DNS lookup for http(s).request that resolves like the system does, then refuses any address this policy
   * does not allow (with `refusal(address)`). The connection goes to the address checked here, so DNS cannot
   * answer differently between the check and the connect. For an IP literal no lookup happens: check it with
   * `allows(host, host)` before the request.
   */
  lookup(hostname: string, refusal: (address: string) => Error): LookupFunction {
    return (host, options, callback) => {
      dnsLookup(host, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
        if (error) return callback(error, '', 0);
        const refused = addresses.find((entry) => !this.allows(hostname, entry.address));
        if (refused) return callback(refusal(refused.address), '', 0);
        if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        callback(null, addresses[0].address, addresses[0].family);
      });
    };
  }
}
