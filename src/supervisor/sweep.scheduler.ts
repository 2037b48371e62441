import { Injectable, Logger, OnApplicationBootstrap, Optional } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '../config/app-config';
import { SpawnerMetrics } from '../metrics/spawner-metrics';
import { SupervisorService } from './supervisor.service';

export const SWEEP_INTERVAL_NAME = 'spawn-sweep';

/** Runs SupervisorService.sweep() every SWEEP_INTERVAL_MS; the schedule module clears it at shutdown. */
@Injectable()
export class SweepScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(SweepScheduler.name);

  constructor(
    private readonly supervisor: SupervisorService,
    private readonly registry: SchedulerRegistry,
    private readonly config: AppConfig,
    @Optional() private readonly metrics?: SpawnerMetrics,
  ) {}

  onApplicationBootstrap(): void {
    const interval = setInterval(() => this.runSweep(), this.config.sweepIntervalMs);
    this.registry.addInterval(SWEEP_INTERVAL_NAME, interval);
  }

  private runSweep(): void {
    const endTimer = this.metrics?.sweepDuration.startTimer();
    try {
      this.supervisor.sweep();
      endTimer?.();
    } catch (error) {
      this.logger.error(`sweep failed: ${error instanceof Error ? error.stack : String(error)}`);
    }
  }
}
