import { isIP } from 'net';
import type { EnvReader } from './env-reader';

/** TRUST_PROXY as Express's `trust proxy` takes it: off, one hop (`true`), loopback, or addresses and CIDRs. */
export type TrustProxySetting = false | true | 'loopback' | string[];

/** Names proxy-addr (Express's `trust proxy`) knows for address ranges. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Whether `entry` is an IP address, an address/prefix (CIDR), or one of Express's named ranges. */
export function isTrustedProxyEntry(entry: string): boolean {
  if (NAMED_RANGES.has(entry.toLowerCase())) return true;
  const [address, prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
  // A /0 range is every address, which TRUST_PROXY=true says; Express's proxy-addr refuses it with a crash.
  return bits >= 1 && bits <= (family === 4 ? 32 : 128);
}

const EVERY_ADDRESS = /^[^/]+\/0+$/;

export function parseTrustProxy(read: EnvReader): TrustProxySetting {
  const raw = read.raw('TRUST_PROXY');
  if (raw === undefined) return false;
  const lower = raw.toLowerCase();
  if (['false', '0', 'no', 'off'].includes(lower)) return false;
  if (['true', '1', 'yes', 'on'].includes(lower)) return true;
  if (lower === 'loopback') return 'loopback';
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const bad = entries.find((entry) => !isTrustedProxyEntry(entry));
  if (bad !== undefined && EVERY_ADDRESS.test(bad) && isIP(bad.split('/')[0]) !== 0) {
    read.problems.push(
      `TRUST_PROXY entry ${JSON.stringify(bad)} is every address: set TRUST_PROXY=true to trust every peer, or list the balancers`,
    );
    return false;
  }
  if (bad !== undefined || entries.length === 0) {
    read.problems.push(
      `TRUST_PROXY must be false, true, loopback, or a comma-separated list of addresses and CIDRs such as 10.0.0.5,192.168.1.0/24; got ${JSON.stringify(bad ?? raw)}`,
    );
    return false;
  }
  return entries;
}

/** Whether HOST keeps the port on this machine (a loopback address or localhost). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare) || bare === '::ffff:127.0.0.1';
}
