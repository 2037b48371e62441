import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { SupervisorModule } from '../supervisor';
import { HealthController } from './health.controller';
import { SpawnerHealthIndicator } from './spawner.health';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), SupervisorModule],
  controllers: [HealthController],
  providers: [SpawnerHealthIndicator],
  exports: [SpawnerHealthIndicator],
})
export class HealthModule {}
