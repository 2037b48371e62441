import ipaddr from 'ipaddr.js';

/** The bits of an IPv6 address that one client holds: a host, or a site's network, gets a whole /64 (RFC 4291). */
export const IPV6_CLIENT_PREFIX = 64;

/**
 * Who a per-client limit counts (request rate, connections, anonymous sessions and tickets): an IPv4 address
 * itself, also written IPv4-mapped; an IPv6 address by its /64, which its holder could otherwise walk through,
 * one new address per request. Anything else (an IPv4 address, ::1, not an address) counts as itself.
 */
export function clientBucket(address: string): string {
  if (!ipaddr.IPv6.isValid(address)) return address;
  const ipv6 = ipaddr.IPv6.parse(address);
  if (ipv6.isIPv4MappedAddress()) return ipv6.toIPv4Address().toString();
  if (ipv6.range() === 'loopback') return address;
  const network = ipv6.parts.map((part, i) => (i < IPV6_CLIENT_PREFIX / 16 ? part : 0));
  return `${new ipaddr.IPv6(network).toString()}/${IPV6_CLIENT_PREFIX}`;
}
