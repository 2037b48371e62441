import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { FileSystem, TcpLineServer } from '../adapters';
import {
  LISTENER_SETTINGS,
  type ListenerSettings,
  SCALE_OUT_SETTINGS,
  type ScaleOutSettings,
  SERVERS_SETTINGS,
  type ServersSettings,
} from '../config';
import { executableProblem } from '../health';
import { portsForNewSession, SupervisorService } from '../supervisor';
import { agentReply } from './agent-reply';

/** HAProxy's agent check on AGENT_CHECK_PORT (off when unset): each connection gets agentReply() of the moment. */
@Injectable()
export class AgentCheckService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AgentCheck');
  private boundPort: number | undefined;

  constructor(
    @Inject(SCALE_OUT_SETTINGS.token) private readonly scaleOut: ScaleOutSettings,
    @Inject(LISTENER_SETTINGS.token) private readonly http: ListenerSettings,
    @Inject(SERVERS_SETTINGS.token) private readonly servers: ServersSettings,
    private readonly supervisor: SupervisorService,
    private readonly files: FileSystem,
    private readonly listener: TcpLineServer,
  ) {}

  /** The port the agent listens on, once listening (AGENT_CHECK_PORT, or the one chosen for 0 in tests). */
  get port(): number | undefined {
    return this.boundPort;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.scaleOut.agentCheckPort === undefined) return;
    this.boundPort = await this.listener.listen(this.scaleOut.agentCheckPort, this.http.host, () => this.line());
    this.logger.log(`HAProxy agent check on ${this.http.host}:${this.boundPort}`);
  }

  /** After the servers are stopped: until then the agent keeps saying `drain`. */
  async onApplicationShutdown(): Promise<void> {
    await this.listener.close();
  }

  line(): string {
    // For the next check: the answer is sync, but a range taken by another program must show within a check or two.
    void this.supervisor.refreshPorts();
    const capacity = this.supervisor.capacity();
    return agentReply({
      freeSlots: capacity.freeSlots,
      maxSpawns: capacity.maxSpawns,
      freePorts: portsForNewSession(capacity),
      draining: capacity.draining || capacity.shuttingDown,
      cannotSpawn: executableProblem(this.files, this.servers.scExecutable),
    });
  }
}
