import { Module } from '@nestjs/common';
import { PortsModule } from '../ports/ports.module';
import { HttpLivelinessEndpoint, LivelinessEndpoint } from './liveliness-endpoint';
import { ChildProcessLauncher, ProcessLauncher } from './process-launcher';
import { SecretRedactor } from './secret-redactor';
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
    { provide: ProcessLauncher, useClass: ChildProcessLauncher },
    { provide: LivelinessEndpoint, useClass: HttpLivelinessEndpoint },
  ],
  exports: [SupervisorService, SpawnEvents, PortsModule],
})
export class SupervisorModule {}
