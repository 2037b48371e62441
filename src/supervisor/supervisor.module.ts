import { Module } from '@nestjs/common';
import { CpuPriorityModule } from '../cpu-priority';
import { PortsModule } from '../ports';
import { OrphanReaper } from './runtime/orphan-reaper';
import { SecretRedactor } from './runtime/secret-redactor';
import { SessionLimits } from './runtime/session-limits.service';
import { SessionQuotas } from './runtime/session-quotas.service';
import { SpawnEvents } from './runtime/spawn-events';
import { SpawnLifecycle } from './runtime/spawn-lifecycle';
import { ServerCommands } from './runtime/server-commands';
import { SpawnProcesses } from './runtime/spawn-processes';
import { SpawnRegistry } from './runtime/spawn-registry';
import { SpawnStarter } from './runtime/spawn-starter';
import { SupervisorService } from './runtime/supervisor.service';
import { JournalKeeper } from './runtime/journal-keeper';
import { SweepScheduler } from './runtime/sweep.scheduler';
import { TimeoutEnforcer } from './runtime/timeout-enforcer';
import { WarmPool } from './runtime/warm-pool.service';

/** Process supervision. Only SupervisorService (the facade) leaves the module. */
@Module({
  imports: [PortsModule, CpuPriorityModule],
  providers: [
    SupervisorService,
    SpawnRegistry,
    SpawnLifecycle,
    SpawnProcesses,
    JournalKeeper,
    ServerCommands,
    SpawnStarter,
    SpawnEvents,
    SecretRedactor,
    OrphanReaper,
    SweepScheduler,
    WarmPool,
    TimeoutEnforcer,
    SessionLimits,
    SessionQuotas,
  ],
  exports: [SupervisorService, CpuPriorityModule],
})
export class SupervisorModule {}
