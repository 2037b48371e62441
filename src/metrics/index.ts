/** Prometheus metrics: the registry, scrape-time gauges and the spawn observer. */
export { MetricsModule } from './metrics.module';
export { isSpawnRoute, type RejectionReason, SpawnerMetrics } from './spawner-metrics';
