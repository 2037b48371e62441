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
import { portsForNewSession, SupervisorService } from '../supervisor';
import { executableProblem } from './executable-problem';

/**
 * Health is open to anyone who reaches the service (load balancers send no key). With API keys set, a caller
 * without a valid one learns why the node is down, not the executable's path or what the servers printed and
 * which session failed: those are for the operator, with a key or in the log.
 */
const KEYLESS = {
  executable:
    'the Stream Cache Server executable is missing or not executable (the path: with an API key, or in the log)',
  warm: 'warm servers keep failing to start (why: with an API key, or in the log)',
};

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

  /**
   * Up while the process serves. `full`: false for a caller without a valid key while keys are set, who is told
   * the causes but not the executable's path or the servers' exit texts (KEYLESS).
   */
  liveness(full: boolean): HealthIndicatorResult {
    return this.indicators.check('spawner').up(this.details(full));
  }

  /**
   * Up only while a spawn would be accepted. The ports are probed for the next check (the first check waits for
   * them): a range another program took shows within one check, and no check waits for binds.
   */
  async readiness(full: boolean): Promise<HealthIndicatorResult> {
    await this.supervisor.refreshPorts();
    const indicator = this.indicators.check('spawner');
    const reason = this.notReadyReason(full);
    return reason ? indicator.down({ reason, ...this.details(full) }) : indicator.up(this.details(full));
  }

  private details(full: boolean) {
    const capacity = this.supervisor.capacity();
    const failing = capacity.warm.failing && (full ? capacity.warm.failing : KEYLESS.warm);
    return {
      activeSpawns: capacity.activeSpawns,
      maxSpawns: capacity.maxSpawns,
      node: this.scaleOut.nodeName,
      draining: capacity.draining,
      freePorts: capacity.ports.free,
      busyPorts: capacity.ports.busy,
      states: capacity.states,
      warm: { ...capacity.warm, failing },
    };
  }

  private notReadyReason(full: boolean): string | undefined {
    const capacity = this.supervisor.capacity();
    if (capacity.shuttingDown) return 'shutting down';
    if (capacity.draining) return 'draining: this node is being stopped and takes no new session';
    if (!capacity.canAcceptSpawn) {
      return `at capacity: all ${this.capacity.maxSpawns} spawn slots in use (none held by an unclaimed warm server)`;
    }
    if (portsForNewSession(capacity) === 0) {
      return portShortage(capacity.ports, this.capacity.portBase, this.capacity.portCount);
    }
    const executable = executableProblem(this.files, this.servers.scExecutable);
    if (executable) return full ? executable : KEYLESS.executable;
    const failing = capacity.warm.failing && (full ? capacity.warm.failing : KEYLESS.warm);
    if (failing) return `${failing} (next try ${capacity.warm.retryAt ?? 'soon'})`;
    return undefined;
  }
}
