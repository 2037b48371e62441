import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { Clock } from '../adapters';
import { SCALE_OUT_SETTINGS, type ScaleOutSettings } from '../config';
import { SpawnPresenter } from '../spawn';
import { SupervisorService } from '../supervisor';
import { CLUSTER_CACHE_MS, ClusterService } from './cluster.service';
import type { NodeEntry } from './cluster.types';
import { repeatedNames } from './node-state';
import { firstSessions, type NodeSpawn, parseSpawnList, peerSpawns } from './peer-spawns';

/** Every node's sessions, each with its node and its /n/<node>/ links; nodes that could not be read are named. */
export interface ClusterSpawns {
  /** `sessionsError`: why a node's sessions are missing or cut short. */
  nodes: Array<Pick<NodeEntry, 'name' | 'url' | 'state' | 'error'> & { sessionsError?: string }>;
  spawns: NodeSpawn[];
}

type PeerLists = Array<{ url: string; result: unknown[] | Error }>;

/** GET /cluster/spawns: this node's sessions and its peers' (these read at most once per CLUSTER_CACHE_MS). */
@Injectable()
export class ClusterSpawnsReader {
  private cached?: { at: number; lists: Promise<PeerLists> };

  constructor(
    private readonly cluster: ClusterService,
    private readonly supervisor: SupervisorService,
    private readonly presenter: SpawnPresenter,
    @Inject(SCALE_OUT_SETTINGS.token) private readonly scaleOut: ScaleOutSettings,
    private readonly clock: Clock,
  ) {}

  async read(request: Request, selfUrl: string): Promise<ClusterSpawns> {
    const [view, lists] = await Promise.all([this.cluster.view(selfUrl), this.peerLists()]);
    const own = this.supervisor.list().map((spawn) => this.presenter.toView(spawn, request) as unknown as NodeSpawn);
    const repeated = repeatedNames(view.nodes);
    // A peer's sessions carry the name it has in the node list: none under a name claimed twice, nor this
    // node's (its own are listed above).
    const names = new Map(
      view.nodes.filter((n) => n.name !== this.presenter.node && !repeated.has(n.name)).map((n) => [n.url, n.name]),
    );
    const notes = new Map<string, string>();
    const fromPeers = lists.flatMap(({ url, result }) => {
      const name = names.get(url);
      if (name === undefined) return [];
      if (result instanceof Error) {
        notes.set(name, result.message);
        return [];
      }
      const { shown, note } = firstSessions(peerSpawns(result, name, this.scaleOut.publicBaseUrl ?? '', url));
      if (note) notes.set(name, note);
      return shown;
    });
    const seen = new Set<string>();
    const spawns = [...own, ...fromPeers].filter((spawn) => {
      const key = `${spawn.node}/${spawn.id}`;
      return seen.has(key) ? false : (seen.add(key), true);
    });
    return { nodes: view.nodes.map((node) => nodeRow(node, repeated, notes)), spawns };
  }

  private peerLists(): Promise<PeerLists> {
    const now = this.clock.now();
    if (this.cached && now - this.cached.at < CLUSTER_CACHE_MS) return this.cached.lists;
    const lists = this.cluster.fromPeers('/spawns', parseSpawnList);
    const entry = { at: now, lists };
    this.cached = entry;
    void lists.then(() => (entry.at = this.clock.now()));
    return lists;
  }
}

/**
 * A node's row. A peer claiming a name another row has (listed unreachable; this node's own row never is) lists
 * no sessions: its sessionsError says why.
 */
function nodeRow(
  { name, url, state, error }: NodeEntry,
  repeated: ReadonlySet<string>,
  notes: ReadonlyMap<string, string>,
): ClusterSpawns['nodes'][number] {
  const sessionsError = repeated.has(name) && state === 'unreachable' ? error : notes.get(name);
  return { name, url, state, ...(error ? { error } : {}), ...(sessionsError ? { sessionsError } : {}) };
}
