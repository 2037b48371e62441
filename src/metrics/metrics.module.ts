import { Global, Module } from '@nestjs/common';
import { SupervisorModule } from '../supervisor';
import { MetricsController } from './metrics.controller';
import { SpawnMetricsObserver } from './spawn-metrics.observer';
import { SpawnerMetrics } from './spawner-metrics';

/** GET /metrics. SpawnerMetrics is global: the proxy, the liveliness routes and the error filters count into it. */
@Global()
@Module({
  imports: [SupervisorModule],
  controllers: [MetricsController],
  providers: [SpawnerMetrics, SpawnMetricsObserver],
  exports: [SpawnerMetrics],
})
export class MetricsModule {}
