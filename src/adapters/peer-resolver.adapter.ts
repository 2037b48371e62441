import { Injectable } from '@nestjs/common';
import { promises as dns } from 'dns';

/** Finds the fleet's nodes by name: the addresses a DNS name has (a headless Service's pods). */
export abstract class PeerResolver {
  /** Every IPv4 and IPv6 address of `name`; rejects when it has none or cannot be resolved. */
  abstract addressesOf(name: string): Promise<string[]>;
}

/**
 * The system resolver (getaddrinfo through dns.promises.lookup): it applies /etc/hosts and the search domains
 * of resolv.conf, so a short Service name such as `sc-spawner-nodes` resolves inside a pod.
 */
@Injectable()
export class SystemPeerResolver extends PeerResolver {
  async addressesOf(name: string): Promise<string[]> {
    const found = await dns.lookup(name, { all: true });
    return found.map((entry) => entry.address);
  }
}
