import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { FileSystem } from '../adapters/file-system.adapter';
import { TcpLineServer } from '../adapters/tcp-line-server.adapter';
import { AppConfig } from '../config/app-config';
import { executableProblem } from '../health/executable-problem';
import { SupervisorService } from '../supervisor';
import { agentReply } from './agent-reply';

/** HAProxy's agent check on AGENT_CHECK_PORT (off when unset): each connection gets agentReply() of the moment. */
@Injectable()
export class AgentCheckService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AgentCheck');
  private boundPort: number | undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly supervisor: SupervisorService,
    private readonly files: FileSystem,
    private readonly listener: TcpLineServer,
  ) {}

  /** The port the agent listens on, once listening (AGENT_CHECK_PORT, or the one chosen for 0 in tests). */
  get port(): number | undefined {
    return this.boundPort;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.agentCheckPort === undefined) return;
    this.boundPort = await this.listener.listen(this.config.agentCheckPort, this.config.host, () => this.line());
    this.logger.log(`HAProxy agent check on ${this.config.host}:${this.boundPort}`);
  }

  /** After the servers are stopped: until then the agent keeps saying `drain`. */
  async onApplicationShutdown(): Promise<void> {
    await this.listener.close();
  }

  line(): string {
    const capacity = this.supervisor.capacity();
    return agentReply({
      activeSpawns: capacity.activeSpawns,
      maxSpawns: capacity.maxSpawns,
      freePorts: capacity.ports.free,
      draining: capacity.draining || capacity.shuttingDown,
      cannotSpawn: executableProblem(this.files, this.config.scExecutable),
    });
  }
}
