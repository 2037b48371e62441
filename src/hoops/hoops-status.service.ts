import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { PortAllocator } from '../ports/port-allocator.service';
import { SupervisorService } from '../supervisor/supervisor.service';

/** The HOOPS Server's status object. It reports how the license is given, never the key or the file. */
@Injectable()
export class HoopsStatusService {
  constructor(
    private readonly supervisor: SupervisorService,
    private readonly ports: PortAllocator,
    private readonly config: AppConfig,
  ) {}

  status() {
    const ports = this.ports.counts();
    const c = this.config;
    return {
      status: 'ok',
      timestamp: new Date().toISOString(),
      usedSpawnPorts: ports.leased,
      availableSpawnPorts: ports.free,
      activeSpawns: this.supervisor.activeCount(),
      maxSpawns: c.maxSpawns,
      shuttingDown: this.supervisor.isShuttingDown,
      spawnsByState: this.supervisor.countByState(),
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
      },
    };
  }
}
