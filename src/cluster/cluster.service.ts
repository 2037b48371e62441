import { Inject, Injectable } from '@nestjs/common';
import { Clock, PeerClient } from '../adapters';
import { ApiKeys } from '../auth';
import { CLUSTER_SETTINGS, type ClusterSettings } from '../config';
import type { ClusterView } from './cluster.types';
import { clusterTotals, unreachableEntry, withNameConflicts } from './node-state';
import { parsePeerEntry } from './peer-entry';
import { PeerDirectory } from './peer-directory.service';
import { SelfEntry } from './self-entry.service';

/** Each peer gets this long to answer. */
export const PEER_TIMEOUT_MS = 1000;
/** A fleet view is reused this long, so many open dashboards do not multiply the load on the peers. */
export const CLUSTER_CACHE_MS = 1000;

/** The fleet view: this node's own entry and every peer's, read in parallel, each within PEER_TIMEOUT_MS. */
@Injectable()
export class ClusterService {
  private cached?: { at: number; view: Promise<ClusterView> };
  /** The name each peer URL last answered with, so a peer that stops answering keeps its name. */
  private readonly names = new Map<string, string>();
  /** The peer URLs that last answered with this process's instance id: this node itself. */
  private readonly selfUrls = new Set<string>();
  private readonly key: string | undefined;

  constructor(
    @Inject(CLUSTER_SETTINGS.token) cluster: ClusterSettings,
    keys: ApiKeys,
    private readonly self: SelfEntry,
    private readonly peers: PeerDirectory,
    private readonly client: PeerClient,
    private readonly clock: Clock,
  ) {
    this.key = cluster.clusterKey ?? keys.first;
  }

  view(selfUrl: string): Promise<ClusterView> {
    const now = this.clock.now();
    if (this.cached && now - this.cached.at < CLUSTER_CACHE_MS) return this.cached.view;
    const view = this.read(selfUrl);
    const entry = { at: now, view };
    this.cached = entry;
    // Fresh for CLUSTER_CACHE_MS from when it was read, not from when the read began (a slow peer takes 1 s).
    void view.then(() => (entry.at = this.clock.now()));
    return view;
  }

  /** GET `path` on every peer but this node (as its last read showed), in parallel; a peer that fails gives its error. */
  async fromPeers<T>(path: string, parse: (body: unknown) => T): Promise<Array<{ url: string; result: T | Error }>> {
    return this.ask(
      (await this.peers.current()).filter((url) => !this.selfUrls.has(url)),
      path,
      parse,
    );
  }

  private ask<T>(urls: string[], path: string, parse: (body: unknown) => T) {
    return Promise.all(
      urls.map(async (url) => {
        try {
          return { url, result: parse(await this.client.getJson(url, path, this.key, PEER_TIMEOUT_MS)) };
        } catch (error) {
          return { url, result: error as Error };
        }
      }),
    );
  }

  /** Every peer URL is read at each refresh: one that answered as this node once is asked again. */
  private async read(selfUrl: string): Promise<ClusterView> {
    const own = this.self.read(selfUrl);
    const answers = await this.ask(await this.peers.current(), '/cluster/self', parsePeerEntry);
    const peers = answers.flatMap(({ url, result }) => {
      if (result instanceof Error) {
        if (this.selfUrls.has(url)) return [];
        return [unreachableEntry(url, result.message, this.clock.toDate(this.clock.now()), this.names.get(url))];
      }
      // By the process's random id, not the name: a peer that claims this node's name is still asked (a peer
      // that copies the id only hides itself).
      if (result.instance !== undefined && result.instance === this.self.instance) {
        this.selfUrls.add(url);
        return [];
      }
      this.selfUrls.delete(url);
      this.names.set(url, result.name);
      return [{ ...result, url }];
    });
    const nodes = withNameConflicts(own, peers, this.clock.toDate(this.clock.now()));
    return { nodes, totals: clusterTotals(nodes) };
  }
}
