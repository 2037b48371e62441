import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { PeerResolver } from '../adapters';
import { CLUSTER_SETTINGS, type ClusterSettings } from '../config';
import { PeerSource, peerSource, peerUrls } from './peer-list';

/** How long a request may wait for the first DNS resolution of the peers. */
const FIRST_RESOLUTION_WAIT_MS = 1000;

/**
 * The peers' base URLs: SC_PEERS as given, or SC_PEERS_DNS resolved at start and every SC_PEERS_REFRESH_S
 * (a failed resolution keeps the last list). Requests never wait on DNS but for the very first resolution.
 */
@Injectable()
export class PeerDirectory implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Cluster');
  private readonly source: PeerSource;
  private urls: string[] = [];
  private firstResolution?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private lastProblem?: string;

  constructor(
    @Inject(CLUSTER_SETTINGS.token) config: ClusterSettings,
    private readonly resolver: PeerResolver,
  ) {
    this.source = peerSource(config);
    this.refreshMs = config.peersRefreshS * 1000;
    this.urls = peerUrls(this.source);
  }

  private readonly refreshMs: number;

  onModuleInit(): void {
    if (this.source.kind !== 'dns') return;
    this.firstResolution = this.resolve();
    this.timer = setInterval(() => void this.resolve(), this.refreshMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The peers' base URLs now (this node may be among them when found through DNS). */
  async current(): Promise<string[]> {
    if (this.firstResolution) {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, FIRST_RESOLUTION_WAIT_MS)));
      await Promise.race([this.firstResolution, waited]);
      clearTimeout(timer);
    }
    return this.urls;
  }

  private async resolve(): Promise<void> {
    if (this.source.kind !== 'dns') return;
    try {
      this.urls = peerUrls(this.source, await this.resolver.addressesOf(this.source.name));
      if (this.lastProblem) this.logger.log(`SC_PEERS_DNS ${this.source.name} resolves again`);
      this.lastProblem = undefined;
    } catch (error) {
      const problem = `SC_PEERS_DNS ${this.source.name} cannot be resolved (${(error as Error).message}); keeping the last ${this.urls.length} peer(s)`;
      if (problem !== this.lastProblem) this.logger.warn(problem);
      this.lastProblem = problem;
    }
  }
}
