import { Controller, Get, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { SpawnPresenter } from '../spawn/spawn-presenter';
import { SupervisorService } from '../supervisor';
import { CLUSTER_SCHEMA, CLUSTER_SPAWNS_SCHEMA, json, NODE_ENTRY_SCHEMA } from './cluster.openapi';
import { ClusterService } from './cluster.service';
import type { ClusterView, NodeEntry } from './cluster.types';
import { SelfEntry } from './self-entry.service';

interface NodeSpawn {
  id: string;
  node: string;
  links: { self: string };
}

/** Every node's sessions, each with its node and its /n/<node>/ links; nodes that could not be read are named. */
export interface ClusterSpawns {
  nodes: Array<Pick<NodeEntry, 'name' | 'url' | 'state' | 'error'>>;
  spawns: NodeSpawn[];
}

/** This node's address as the client reached it. */
function selfUrl(request: Request): string {
  return `${request.protocol}://${request.headers.host ?? 'localhost'}`;
}

@ApiTags('cluster')
@Controller('cluster')
export class ClusterController {
  constructor(
    private readonly cluster: ClusterService,
    private readonly self: SelfEntry,
    private readonly supervisor: SupervisorService,
    private readonly presenter: SpawnPresenter,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      'The fleet: every node (this one and its peers, SC_PEERS or SC_PEERS_DNS) with state, capacity, sessions and warm servers, and the totals; cached 1 s, 1 s per peer',
  })
  @ApiOkResponse({
    description: '`{nodes: [...], totals: {...}}`; a node that did not answer is `unreachable`',
    content: json(CLUSTER_SCHEMA),
  })
  view(@Req() request: Request): Promise<ClusterView> {
    return this.cluster.view(selfUrl(request));
  }

  @Get('self')
  @ApiOperation({ summary: "This node's own entry in the fleet view (what the peers read)" })
  @ApiOkResponse({
    description: 'This node: state, capacity, sessions, warm servers',
    content: json(NODE_ENTRY_SCHEMA),
  })
  selfEntry(@Req() request: Request): NodeEntry {
    return this.self.read(selfUrl(request));
  }

  @Get('spawns')
  @ApiOperation({ summary: "Every node's sessions, each with its node and its /n/<node>/ links" })
  @ApiOkResponse({ description: 'Every node and its sessions', content: json(CLUSTER_SPAWNS_SCHEMA) })
  async spawns(@Req() request: Request): Promise<ClusterSpawns> {
    const [view, answers] = await Promise.all([
      this.cluster.view(selfUrl(request)),
      this.cluster.fromPeers('/spawns', parseSpawns),
    ]);
    const own = this.supervisor.list().map((spawn) => this.presenter.toView(spawn, request));
    const fromPeers = answers.flatMap(({ result }) =>
      result instanceof Error ? [] : result.filter((spawn) => spawn.node !== this.self.name),
    );
    const seen = new Set<string>();
    const spawns = [...own, ...fromPeers].filter((spawn) => {
      const key = `${spawn.node}/${spawn.id}`;
      return seen.has(key) ? false : (seen.add(key), true);
    });
    const nodes = view.nodes.map(({ name, url, state, error }) => ({ name, url, state, ...(error ? { error } : {}) }));
    return { nodes, spawns };
  }
}

function parseSpawns(body: unknown): NodeSpawn[] {
  const ok =
    Array.isArray(body) &&
    body.every((s: Partial<NodeSpawn>) => typeof s?.id === 'string' && typeof s.node === 'string');
  if (!ok) throw new Error('answered something that is not a list of spawns (GET /spawns)');
  return body as NodeSpawn[];
}
