import { Module } from '@nestjs/common';
import { CpuPriorityModule } from '../cpu-priority/cpu-priority.module';
import { PortsModule } from '../ports/ports.module';
import { OrphanReaper } from './orphan-reaper';
import { SecretRedactor } from './secret-redactor';
import { SpawnEvents } from './spawn-events';
import { SpawnLifecycle } from './spawn-lifecycle';
import { SpawnProcesses } from './spawn-processes';
import { SpawnRegistry } from './spawn-registry';
import { SpawnStarter } from './spawn-starter';
import { SupervisorService } from './supervisor.service';
import { SweepScheduler } from './sweep.scheduler';
import { WarmPool } from './warm-pool.service';

/** Process supervision. Only SupervisorService (the facade) leaves the module. */
@Module({
  imports: [PortsModule, CpuPriorityModule],
  providers: [
    SupervisorService,
    SpawnRegistry,
    SpawnLifecycle,
    SpawnProcesses,
    SpawnStarter,
    SpawnEvents,
    SecretRedactor,
    OrphanReaper,
    SweepScheduler,
    WarmPool,
  ],
  exports: [SupervisorService, CpuPriorityModule],
})
export class SupervisorModule {}
