import type { IncomingMessage } from 'http';
import proxyaddr from 'proxy-addr';
import type { TrustProxySetting } from '../config';

/** A peer-trust test as Express's `trust proxy` compiles it: (address, hop index) -> trusted. */
export type TrustTest = (address: string, hop: number) => boolean;

/** The value given to Express's `trust proxy`: `true` is one hop (the peer itself), never the left-most X-Forwarded-For. */
export function expressTrustProxy(setting: TrustProxySetting): boolean | number | string | string[] {
  return setting === true ? 1 : setting;
}

/** The trust test for TRUST_PROXY, the same one Express uses for req.ip. */
export function compileTrust(setting: TrustProxySetting): TrustTest {
  if (setting === false) return () => false;
  if (setting === true) return (_address, hop) => hop < 1;
  return proxyaddr.compile(setting);
}

/**
 * The client's address for a request Express does not see (a WebSocket upgrade): the socket's, or from a
 * trusted proxy the address it appended to X-Forwarded-For, exactly as req.ip.
 */
export function clientAddressOf(req: IncomingMessage, trust: TrustTest): string {
  return proxyaddr(req, trust);
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/** A loopback address as a socket shows it (IPv4, IPv6, or IPv4-mapped). */
export function isLoopbackAddress(address: string): boolean {
  return LOOPBACK.test(address);
}
