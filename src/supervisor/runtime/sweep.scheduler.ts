import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { TIMING_SETTINGS, type TimingSettings } from '../../config';
import { SpawnEvents } from './spawn-events';
import { SupervisorService } from './supervisor.service';

export const SWEEP_INTERVAL_NAME = 'spawn-sweep';

/** Runs SupervisorService.sweep() every SWEEP_INTERVAL_MS and publishes its duration; the schedule module clears it at shutdown. */
@Injectable()
export class SweepScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(SweepScheduler.name);

  constructor(
    private readonly supervisor: SupervisorService,
    private readonly registry: SchedulerRegistry,
    @Inject(TIMING_SETTINGS.token) private readonly timing: TimingSettings,
    private readonly events: SpawnEvents,
  ) {}

  onApplicationBootstrap(): void {
    const interval = setInterval(() => this.runSweep(), this.timing.sweepIntervalMs);
    this.registry.addInterval(SWEEP_INTERVAL_NAME, interval);
  }

  private runSweep(): void {
    const startedAt = performance.now();
    try {
      this.supervisor.sweep();
      // Published like every other spawn metric: the metrics module observes it.
      this.events.emitSweep({ durationSeconds: (performance.now() - startedAt) / 1000 });
    } catch (error) {
      this.logger.error(`sweep failed: ${error instanceof Error ? error.stack : String(error)}`);
    }
  }
}
