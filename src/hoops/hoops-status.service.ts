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
      spawnsByState: capacity.states,
      warm: capacity.warm,
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
        warmPool: c.warmPool,
        warmMaxAgeS: c.warmMaxAgeS,
        publicHostname: c.publicHostname ?? null,
        publicEndpoint: c.publicEndpoint,
      },
    };
  }
}
