import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { SupervisorService } from '../supervisor/supervisor.service';

/** The HOOPS Server's status object. It reports how the license is given, never the key or the file. */
@Injectable()
export class HoopsStatusService {
  constructor(
    private readonly supervisor: SupervisorService,
    private readonly config: AppConfig,
  ) {}

  status() {
    const capacity = this.supervisor.capacity();
    const c = this.config;
    return {
      status: 'ok',
      timestamp: new Date().toISOString(),
      usedSpawnPorts: capacity.ports.leased,
      availableSpawnPorts: capacity.ports.free,
      activeSpawns: capacity.activeSpawns,
      maxSpawns: c.maxSpawns,
      shuttingDown: capacity.shuttingDown,
      draining: capacity.draining,
      node: c.nodeName,
      spawnsByState: capacity.states,
      config: {
        executable: c.scExecutable,
        usingSimulator: c.usingSimulator,
        license: c.license ? 'key' : 'file',
        csrEnabled: c.csrEnabled,
        ssrEnabled: c.ssrEnabled,
        spawnPortBase: c.portBase,
        spawnPortCount: c.portCount,
        maxSpawns: c.maxSpawns,
        modelSearchDirectories: c.modelDirs,
        livelinessIntervalS: c.livelinessIntervalS,
        pingTimeoutS: c.pingTimeoutS,
        readyTimeoutS: c.readyTimeoutS,
        initialUseDurationS: c.initialUseDurationS,
        killGraceS: c.killGraceS,
        publicHostname: c.publicHostname ?? null,
        publicEndpoint: c.publicEndpoint,
        publicBaseUrl: c.publicBaseUrl ?? null,
        agentCheckPort: c.agentCheckPort ?? null,
        drainTimeoutS: c.drainTimeoutS,
      },
    };
  }
}
