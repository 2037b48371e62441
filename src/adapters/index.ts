/**
 * Every side effect behind an interface: files, clock, processes and their table, sockets, the spawn helper,
 * the journal, the instance lock, peers. Other rooms take these by injection; fakes live under test/.
 */
export { AdaptersModule } from './adapters.module';
export { Clock, steadyNow, steadyToDate } from './clock.adapter';
export { FileSystem, NodeFileSystem } from './file-system.adapter';
export {
  ancestorProblem,
  fileFacts,
  type FileFacts,
  foldersDownTo,
  GROUP_OR_OTHER_WRITE,
  secretFileExposure,
} from './file-trust';
export { untrustedAncestor } from './own-folder';
export { acquireInstanceLock, type LockResult } from './instance-lock.adapter';
export { LivelinessEndpoint } from './liveliness-endpoint.adapter';
export { PeerClient } from './peer-client.adapter';
export { PeerResolver } from './peer-resolver.adapter';
export { bindErrorMeansHeld, PortProbe, PortProbeError } from './port-probe.adapter';
export { hashArgs, notOurs, stillRunning } from './process-identity';
export {
  findNice,
  findPerl,
  type LaunchedProcess,
  NICE_CANDIDATES,
  type ProcessEnd,
  ProcessLauncher,
  type ServerPlacement,
} from './process-launcher.adapter';
export { ProcessTable, ProcProcessTable } from './process-table.adapter';
export { ProcessUsage } from './process-usage.adapter';
export { SchedulingFiles, type SchedulingReader } from './scheduling-files.adapter';
export { addressBytes, type Endpoint, type FoundSocket, SocketTable, V4_MAPPED } from './socket-table.adapter';
export { type JournalEntry, SpawnJournal } from './spawn-journal.adapter';
export { TcpLineServer } from './tcp-line-server.adapter';
export { bindError, holdTwin, twinAddress, twinPortProblem } from './twin-listener';
