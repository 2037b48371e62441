import { Module } from '@nestjs/common';
import { SpawnModule } from '../spawn';
import { SupervisorModule } from '../supervisor';
import { ClusterSpawnsReader } from './cluster-spawns.service';
import { ClusterController } from './cluster.controller';
import { ClusterService } from './cluster.service';
import { PeerDirectory } from './peer-directory.service';
import { SelfEntry } from './self-entry.service';

/** The fleet view: GET /cluster, /cluster/self and /cluster/spawns over this node and its peers. */
@Module({
  imports: [SupervisorModule, SpawnModule],
  controllers: [ClusterController],
  providers: [ClusterService, ClusterSpawnsReader, PeerDirectory, SelfEntry],
})
export class ClusterModule {}
