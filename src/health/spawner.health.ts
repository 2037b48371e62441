import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { FileSystem } from '../adapters';
import {
  CAPACITY_SETTINGS,
  type CapacitySettings,
  SCALE_OUT_SETTINGS,
  type ScaleOutSettings,
  SERVERS_SETTINGS,
  type ServersSettings,
} from '../config';
import { portShortage } from '../ports';
import { SupervisorService } from '../supervisor';
import { executableProblem } from './executable-problem';

/** What load balancers see: how busy this machine is, and whether it would take one more spawn. */
@Injectable()
export class SpawnerHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly supervisor: SupervisorService,
    @Inject(SCALE_OUT_SETTINGS.token) private readonly scaleOut: ScaleOutSettings,
    @Inject(CAPACITY_SETTINGS.token) private readonly capacity: CapacitySettings,
    @Inject(SERVERS_SETTINGS.token) private readonly servers: ServersSettings,
    private readonly files: FileSystem,
  ) {}

  /** Up while the process serves. */
  liveness(): HealthIndicatorResult {
    return this.indicators.check('spawner').up(this.details());
  }

  /**
   * Up only while a spawn would be accepted. The ports are probed for the next check (the first check waits for
   * them): a range another program took shows within one check, and no check waits for binds.
   */
  async readiness(): Promise<HealthIndicatorResult> {
    await this.supervisor.refreshPorts();
    const indicator = this.indicators.check('spawner');
    const reason = this.notReadyReason();
    return reason ? indicator.down({ reason, ...this.details() }) : indicator.up(this.details());
  }

  private details() {
    const capacity = this.supervisor.capacity();
    return {
      activeSpawns: capacity.activeSpawns,
      maxSpawns: capacity.maxSpawns,
      node: this.scaleOut.nodeName,
      draining: capacity.draining,
      freePorts: capacity.ports.free,
      busyPorts: capacity.ports.busy,
      states: capacity.states,
      warm: capacity.warm,
    };
  }

  private notReadyReason(): string | undefined {
    const capacity = this.supervisor.capacity();
    if (capacity.shuttingDown) return 'shutting down';
    if (capacity.draining) return 'draining: this node is being stopped and takes no new session';
    if (!capacity.canAcceptSpawn) {
      return `at capacity: all ${this.capacity.maxSpawns} spawn slots in use (none held by an unclaimed warm server)`;
    }
    if (capacity.ports.free === 0) {
      return portShortage(capacity.ports, this.capacity.portBase, this.capacity.portCount);
    }
    const executable = executableProblem(this.files, this.servers.scExecutable);
    if (executable) return executable;
    if (capacity.warm.failing) return `${capacity.warm.failing} (next try ${capacity.warm.retryAt ?? 'soon'})`;
    return undefined;
  }
}
