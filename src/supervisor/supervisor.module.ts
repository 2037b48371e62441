import { Module } from '@nestjs/common';
import { PortsModule } from '../ports/ports.module';
import { HttpLivelinessEndpoint, LivelinessEndpoint } from './liveliness-endpoint';
import { ChildProcessLauncher, ProcessLauncher } from './process-launcher';
import { OrphanReaper } from './orphan-reaper';
import { ProcessTable, ProcProcessTable } from './process-table';
import { SecretRedactor } from './secret-redactor';
import { FileSpawnJournal, SpawnJournal } from './spawn-journal';
import { SpawnEvents } from './spawn-events';
import { SupervisorService } from './supervisor.service';
import { SweepScheduler } from './sweep.scheduler';

@Module({
  imports: [PortsModule],
  providers: [
    SupervisorService,
    SweepScheduler,
    SpawnEvents,
    SecretRedactor,
    OrphanReaper,
    { provide: SpawnJournal, useClass: FileSpawnJournal },
    { provide: ProcessTable, useClass: ProcProcessTable },
    { provide: ProcessLauncher, useClass: ChildProcessLauncher },
    { provide: LivelinessEndpoint, useClass: HttpLivelinessEndpoint },
  ],
  exports: [SupervisorService, SpawnEvents, PortsModule],
})
export class SupervisorModule {}
