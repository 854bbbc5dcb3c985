import ipaddr from 'ipaddr.js';

/**
 * Which network addresses a callback may reach. Callbacks go to public addresses only;
 * the ranges below are refused unless an operator lists them in `CALLBACK_ALLOWED_CIDRS`.
 * Pure: no DNS, no sockets. The dispatcher applies it to every resolved address.
 */

export type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

export type AddressVerdict =
  | { allowed: true; address: string }
  | {
      allowed: false;
      address: string;
      range: string;
      kind: string;
      /** e.g. `127.0.0.1 (IPv4-mapped form of …)` */
      described: string;
      /** e.g. `loopback range 127.0.0.0/8` */
      where: string;
    };

const REFUSED_RANGES: ReadonlyArray<readonly [kind: string, cidrs: readonly string[]]> = [
  [
    'cloud metadata',
    [
      '169.254.169.254/32',
      '169.254.170.2/32',
      '100.100.100.200/32',
      '192.0.0.192/32',
      '168.63.129.16/32',
      'fd00:ec2::254/128',
    ],
  ],
  ['unspecified', ['0.0.0.0/8', '::/128']],
  ['loopback', ['127.0.0.0/8', '::1/128']],
  ['private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']],
  ['unique local', ['fc00::/7']],
  ['link-local', ['169.254.0.0/16', 'fe80::/10']],
  ['site-local', ['fec0::/10']],
  ['carrier-grade NAT', ['100.64.0.0/10']],
  ['multicast', ['224.0.0.0/4', 'ff00::/8']],
  [
    'reserved',
    ['240.0.0.0/4', '192.0.0.0/24', '192.88.99.0/24', '2001::/23', '100::/64', '5f00::/16'],
  ],
  ['benchmarking', ['198.18.0.0/15']],
  [
    'documentation',
    ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32', '3fff::/20'],
  ],
  ['IPv4-compatible IPv6', ['::/96']],
  ['NAT64', ['64:ff9b::/96', '64:ff9b:1::/48']],
  ['6to4', ['2002::/16']],
];

const REFUSED: ReadonlyArray<{ kind: string; text: string; cidr: Cidr }> = REFUSED_RANGES.flatMap(
  ([kind, cidrs]) => cidrs.map((text) => ({ kind, text, cidr: ipaddr.parseCIDR(text) as Cidr })),
);

export class InvalidCidrError extends Error {}

/** Parses `CALLBACK_ALLOWED_CIDRS` (comma-separated CIDR ranges, possibly empty). */
export function parseCidrList(text: string): Cidr[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => {
      try {
        return ipaddr.parseCIDR(part) as Cidr;
      } catch {
        throw new InvalidCidrError(
          `"${part}" is not a CIDR range; write an address and a prefix length, e.g. 127.0.0.0/8 or ::1/128`,
        );
      }
    });
}

function inAny(address: ipaddr.IPv4 | ipaddr.IPv6, cidrs: readonly Cidr[]): boolean {
  return cidrs.some(
    ([range, bits]) => address.kind() === range.kind() && address.match(range, bits),
  );
}

/** Builds the check for one allowlist. The answer says which range refused an address and why. */
export function createAddressPolicy(allowed: readonly Cidr[]): (address: string) => AddressVerdict {
  return (text) => {
    let parsed: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      parsed = ipaddr.parse(text.replace(/^\[|\]$/g, ''));
    } catch {
      return refusal(text, 'none', 'unparseable address', '');
    }
    const forms: Array<ipaddr.IPv4 | ipaddr.IPv6> = [parsed];
    if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
      forms.push((parsed as ipaddr.IPv6).toIPv4Address());
    }
    if (forms.some((form) => inAny(form, allowed))) return { allowed: true, address: text };

    const effective = forms[forms.length - 1] as ipaddr.IPv4 | ipaddr.IPv6;
    const mapped = forms.length > 1 ? ` (IPv4-mapped form of ${effective.toString()})` : '';
    const hit = REFUSED.find(({ cidr }) => inAny(effective, [cidr]));
    if (hit) return refusal(text, hit.text, hit.kind, mapped);
    const range = effective.range();
    if (range !== 'unicast') return refusal(text, range, range, mapped);
    return { allowed: true, address: text };
  };
}

function refusal(address: string, range: string, kind: string, mapped: string): AddressVerdict {
  const where = range === kind || range === 'none' ? kind : `${kind} range ${range}`;
  return { allowed: false, address, range, kind, described: `${address}${mapped}`, where };
}

/** What `lastError` says when a callback was refused, for an address or a host name. */
export function refusalMessage(
  verdict: Extract<AddressVerdict, { allowed: false }>,
  host: string,
): string {
  const what =
    host === verdict.address
      ? `callback destination ${verdict.described} is in the ${verdict.where}`
      : `callback host ${host} resolves to ${verdict.described}, which is in the ${verdict.where}`;
  return `${what}; callbacks only reach public addresses unless the range is listed in CALLBACK_ALLOWED_CIDRS`;
}
