import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { AppConfig, isExecutable } from '../config/app-config';
import { PortAllocator } from '../ports/port-allocator.service';
import { SupervisorService } from '../supervisor/supervisor.service';

/** What load balancers see: how busy this machine is, and whether it would take one more spawn. */
@Injectable()
export class SpawnerHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly supervisor: SupervisorService,
    private readonly ports: PortAllocator,
    private readonly config: AppConfig,
  ) {}

  details() {
    return {
      activeSpawns: this.supervisor.activeCount(),
      maxSpawns: this.config.maxSpawns,
      freePorts: this.ports.counts().free,
      states: this.supervisor.countByState(),
    };
  }

  /** Up while the process serves. */
  liveness(): HealthIndicatorResult {
    return this.indicators.check('spawner').up(this.details());
  }

  /** Up only while a spawn would be accepted. */
  readiness(): HealthIndicatorResult {
    const details = this.details();
    const indicator = this.indicators.check('spawner');
    const reason = this.notReadyReason(details.freePorts);
    return reason ? indicator.down({ reason, ...details }) : indicator.up(details);
  }

  notReadyReason(freePorts = this.ports.counts().free): string | undefined {
    if (this.supervisor.isShuttingDown) return 'shutting down';
    if (!this.supervisor.hasFreeSlot()) return `at capacity: all ${this.config.maxSpawns} spawn slots in use`;
    if (freePorts === 0) return 'no free WebSocket port';
    if (!isExecutable(this.config.scExecutable)) return `the Stream Cache Server executable is missing or not executable: ${this.config.scExecutable}`;
    return undefined;
  }
}
