import { describe, expect, it } from 'vitest';
import {
  createAddressPolicy,
  parseCidrList,
  refusalMessage,
} from '../../src/domain/address-policy.ts';

const strict = createAddressPolicy([]);

describe('address policy without an allowlist', () => {
  it.each([
    ['8.8.8.8'],
    ['1.1.1.1'],
    ['93.184.216.34'],
    ['2606:4700:4700::1111'],
    ['2a00:1450:4001:82a::200e'],
    ['100.63.255.255'], // just below CGNAT
    ['172.32.0.1'], // just above 172.16/12
  ])('allows public %s', (address) => {
    expect(strict(address)).toEqual({ allowed: true, address });
  });

  it.each([
    ['127.0.0.1', 'loopback', '127.0.0.0/8'],
    ['127.255.255.254', 'loopback', '127.0.0.0/8'],
    ['::1', 'loopback', '::1/128'],
    ['10.1.2.3', 'private', '10.0.0.0/8'],
    ['172.16.0.1', 'private', '172.16.0.0/12'],
    ['172.31.255.255', 'private', '172.16.0.0/12'],
    ['192.168.1.1', 'private', '192.168.0.0/16'],
    ['169.254.169.254', 'cloud metadata', '169.254.169.254/32'],
    ['169.254.170.2', 'cloud metadata', '169.254.170.2/32'],
    ['100.100.100.200', 'cloud metadata', '100.100.100.200/32'],
    ['168.63.129.16', 'cloud metadata', '168.63.129.16/32'],
    ['fd00:ec2::254', 'cloud metadata', 'fd00:ec2::254/128'],
    ['169.254.1.1', 'link-local', '169.254.0.0/16'],
    ['fe80::1', 'link-local', 'fe80::/10'],
    ['100.64.0.1', 'carrier-grade NAT', '100.64.0.0/10'],
    ['224.0.0.1', 'multicast', '224.0.0.0/4'],
    ['ff02::1', 'multicast', 'ff00::/8'],
    ['0.0.0.0', 'unspecified', '0.0.0.0/8'],
    ['::', 'unspecified', '::/128'],
    ['255.255.255.255', 'reserved', '240.0.0.0/4'],
    ['240.0.0.1', 'reserved', '240.0.0.0/4'],
    ['192.0.2.10', 'documentation', '192.0.2.0/24'],
    ['198.18.0.1', 'benchmarking', '198.18.0.0/15'],
    ['fc00::1', 'unique local', 'fc00::/7'],
    ['fd12:3456::1', 'unique local', 'fc00::/7'],
    ['64:ff9b::a00:1', 'NAT64', '64:ff9b::/96'],
    ['2002:a00:1::1', '6to4', '2002::/16'],
    ['::7f00:1', 'IPv4-compatible IPv6', '::/96'],
  ])('refuses %s as %s (%s)', (address, kind, range) => {
    const verdict = strict(address);
    expect(verdict).toMatchObject({ allowed: false, kind, range });
    if (!verdict.allowed) {
      expect(verdict.where).toBe(range === kind ? kind : `${kind} range ${range}`);
    }
  });

  it.each([
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'cloud metadata'],
  ])('refuses the IPv4-mapped form %s as %s', (address, kind) => {
    const verdict = strict(address);
    expect(verdict).toMatchObject({ allowed: false, kind });
    if (!verdict.allowed) expect(verdict.described).toContain('IPv4-mapped form of');
  });

  it('says in lastError which address, which range, and how to allow it', () => {
    const loopback = strict('127.0.0.1');
    const metadata = strict('169.254.169.254');
    if (loopback.allowed || metadata.allowed) throw new Error('expected refusals');
    expect(refusalMessage(loopback, '127.0.0.1')).toBe(
      'callback destination 127.0.0.1 is in the loopback range 127.0.0.0/8; callbacks only reach public addresses unless the range is listed in CALLBACK_ALLOWED_CIDRS',
    );
    expect(refusalMessage(metadata, 'metadata.internal')).toBe(
      'callback host metadata.internal resolves to 169.254.169.254, which is in the cloud metadata range 169.254.169.254/32; callbacks only reach public addresses unless the range is listed in CALLBACK_ALLOWED_CIDRS',
    );
  });

  it('allows the IPv4-mapped form of a public address', () => {
    expect(strict('::ffff:8.8.8.8').allowed).toBe(true);
  });

  it('refuses an address that is not one', () => {
    expect(strict('example.com').allowed).toBe(false);
  });
});

describe('address policy with CALLBACK_ALLOWED_CIDRS', () => {
  const policy = createAddressPolicy(
    parseCidrList('127.0.0.0/8, ::1/128,10.20.0.0/16,169.254.169.254/32'),
  );

  it.each(['127.0.0.1', '::1', '10.20.3.4', '169.254.169.254', '::ffff:127.0.0.1', '8.8.8.8'])(
    'allows %s',
    (address) => {
      expect(policy(address).allowed).toBe(true);
    },
  );

  it.each(['10.21.0.1', '192.168.0.1', '169.254.169.253', 'fe80::1'])(
    'still refuses %s',
    (address) => {
      expect(policy(address).allowed).toBe(false);
    },
  );
});

describe('parseCidrList', () => {
  it('reads an empty list and a list with spaces', () => {
    expect(parseCidrList('')).toEqual([]);
    expect(parseCidrList(' 10.0.0.0/8 , fd00::/8 ')).toHaveLength(2);
  });

  it.each(['10.0.0.0', '10.0.0.0/33', 'localhost/8', '::1/129'])('refuses %s', (text) => {
    expect(() => parseCidrList(text)).toThrow(/is not a CIDR range/);
  });
});
