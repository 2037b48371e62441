import { Module } from '@nestjs/common';
import { SupervisorModule } from '../supervisor';
import { SpawnPresenter } from './spawn-presenter';
import { SpawnSheddingGuard } from './spawn-shedding.guard';
import { SpawnController } from './spawn.controller';

/** The service's own spawn API (POST /spawn, /spawns...) and the presenter every API shares for spawn views. */
@Module({
  imports: [SupervisorModule],
  controllers: [SpawnController],
  providers: [SpawnPresenter, SpawnSheddingGuard],
  exports: [SpawnPresenter],
})
export class SpawnModule {}
