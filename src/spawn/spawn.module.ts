import { Module } from '@nestjs/common';
import { SupervisorModule } from '../supervisor/supervisor.module';
import { SpawnPresenter } from './spawn-presenter';
import { SpawnController } from './spawn.controller';
import { SpawnService } from './spawn.service';

@Module({
  imports: [SupervisorModule],
  controllers: [SpawnController],
  providers: [SpawnService, SpawnPresenter],
  exports: [SpawnService, SpawnPresenter],
})
export class SpawnModule {}
