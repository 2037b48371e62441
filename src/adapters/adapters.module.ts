import { Global, Module, Provider } from '@nestjs/common';
import { SERVERS_SETTINGS, type ServersSettings } from '../config';
import { Clock, SystemClock } from './clock.adapter';
import { FileSystem, NodeFileSystem } from './file-system.adapter';
import { HttpLivelinessEndpoint, LivelinessEndpoint } from './liveliness-endpoint.adapter';
import { FetchPeerClient, PeerClient } from './peer-client.adapter';
import { PeerResolver, SystemPeerResolver } from './peer-resolver.adapter';
import { NetPortProbe, PortProbe } from './port-probe.adapter';
import { ProcessLauncher } from './process-launcher.adapter';
import { SpawnHelperLauncher } from './spawn-helper.adapter';
import { ProcessTable, ProcProcessTable } from './process-table.adapter';
import { ProcessUsage, ProcProcessUsage } from './process-usage.adapter';
import { ProcSchedulingFiles, SchedulingFiles } from './scheduling-files.adapter';
import { KernelSocketTable, SocketTable } from './socket-table.adapter';
import { FileSpawnJournal, SpawnJournal } from './spawn-journal.adapter';
import { NetTcpLineServer, TcpLineServer } from './tcp-line-server.adapter';

/**
 * Every side effect of the service (processes, the process table, files, ports, the clock, its own listeners)
 * is one of these abstract classes; the real implementations are bound here and nowhere else. Tests replace
 * them with overrideProvider() and the fakes under test/.
 */
const ADAPTERS: Provider[] = [
  { provide: Clock, useClass: SystemClock },
  { provide: FileSystem, useClass: NodeFileSystem },
  { provide: LivelinessEndpoint, useClass: HttpLivelinessEndpoint },
  { provide: PeerClient, useFactory: () => new FetchPeerClient() },
  { provide: PeerResolver, useClass: SystemPeerResolver },
  { provide: PortProbe, useClass: NetPortProbe },
  {
    provide: ProcessLauncher,
    useFactory: (files: FileSystem, servers: Pick<ServersSettings, 'stateDir'>) =>
      new SpawnHelperLauncher(files, undefined, undefined, servers.stateDir),
    inject: [FileSystem, SERVERS_SETTINGS.token],
  },
  { provide: ProcessTable, useClass: ProcProcessTable },
  { provide: ProcessUsage, useFactory: () => new ProcProcessUsage() },
  { provide: SchedulingFiles, useClass: ProcSchedulingFiles },
  { provide: SocketTable, useFactory: (files: FileSystem) => new KernelSocketTable(files), inject: [FileSystem] },
  { provide: SpawnJournal, useClass: FileSpawnJournal },
  { provide: TcpLineServer, useClass: NetTcpLineServer },
];

@Global()
@Module({ providers: ADAPTERS, exports: ADAPTERS.map((p) => (p as { provide: unknown }).provide as never) })
export class AdaptersModule {}
