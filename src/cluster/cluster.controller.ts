import { Controller, Get, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { CLUSTER_SCHEMA, CLUSTER_SPAWNS_SCHEMA, json, NODE_ENTRY_SCHEMA } from './cluster.openapi';
import { type ClusterSpawns, ClusterSpawnsReader } from './cluster-spawns.service';
import { ClusterService } from './cluster.service';
import type { ClusterView, NodeEntry } from './cluster.types';
import { SelfEntry } from './self-entry.service';

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
    private readonly spawnLists: ClusterSpawnsReader,
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
  spawns(@Req() request: Request): Promise<ClusterSpawns> {
    return this.spawnLists.read(request, selfUrl(request));
  }
}
