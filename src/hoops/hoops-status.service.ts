import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config';
import { Clock } from '../adapters';
import { CpuPriority } from '../cpu-priority';
import { gpuAllocation, isTerminal, SupervisorService, type SpawnView } from '../supervisor';
import { hoopsStateCounts, hoopsStateOf, type HoopsState } from './hoops-states';

/** The HOOPS Server's status object. It reports how the license is given, never the key or the file. */
@Injectable()
export class HoopsStatusService {
  constructor(
    private readonly supervisor: SupervisorService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly priority: CpuPriority,
  ) {}

  /** One spawn's state in the HOOPS Server's words, as status() counts it (GET /api/spawns lists it so). */
  stateOf(spawn: SpawnView): HoopsState {
    return hoopsStateOf(spawn, this.clock.now(), this.config);
  }

  status() {
    const capacity = this.supervisor.capacity();
    const c = this.config;
    const now = this.clock.now();
    const spawns = this.supervisor.list();
    const live = spawns.filter((spawn) => !isTerminal(spawn.state)).map((spawn) => spawn.spec);
    return {
      status: 'ok',
      timestamp: this.clock.toDate(now).toISOString(),
      // The HOOPS Server's one number per state (mapping in hoops-states.ts and docs/operations.md).
      ...hoopsStateCounts(spawns, now, c),
      usedSpawnPorts: capacity.ports.leased,
      availableSpawnPorts: capacity.ports.free,
      busySpawnPorts: capacity.ports.busy,
      activeSpawns: capacity.activeSpawns,
      maxSpawns: c.maxSpawns,
      shuttingDown: capacity.shuttingDown,
      draining: capacity.draining,
      node: c.nodeName,
      spawnsByState: capacity.states,
      warm: capacity.warm,
      gpuAllocation: gpuAllocation(live, c.ssrGpuCount ?? (c.ssrGpuIndex === undefined ? 0 : c.ssrGpuIndex + 1)),
      memory: process.memoryUsage(),
      cpuPriority: this.priority.status(),
      config: {
        executable: c.scExecutable,
        usingSimulator: c.usingSimulator,
        license: c.license ? 'key' : 'file',
        csrEnabled: c.csrEnabled,
        ssrEnabled: c.ssrEnabled,
        ssrGpuCount: c.ssrGpuCount ?? null,
        ssrGpuIndex: c.ssrGpuIndex ?? null,
        ssrUseEgl: c.ssrEgl,
        spawnOnConnect: c.spawnOnConnect,
        workspaceDir: c.workspaceDir ?? null,
        corsOrigins: c.corsOrigins === true ? '*' : c.corsOrigins,
        spawnPortBase: c.portBase,
        spawnPortCount: c.portCount,
        maxSpawns: c.maxSpawns,
        modelSearchDirectories: c.modelDirs,
        livelinessIntervalS: c.livelinessIntervalS,
        pingTimeoutS: c.pingTimeoutS,
        readyTimeoutS: c.readyTimeoutS,
        initialUseDurationS: c.initialUseDurationS,
        killGraceS: c.killGraceS,
        warmPool: c.warmPool,
        warmMaxAgeS: c.warmMaxAgeS,
        publicHostname: c.publicHostname ?? null,
        publicEndpoint: c.publicEndpoint,
        publicBaseUrl: c.publicBaseUrl ?? null,
        agentCheckPort: c.agentCheckPort ?? null,
        drainTimeoutS: c.drainTimeoutS,
      },
    };
  }
}
