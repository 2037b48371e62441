import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Clock } from '../../adapters';
import { TIMING_SETTINGS, type TimingSettings } from '../../config';
import { type Stall, sweepStalled, withStall } from '../rules/service-stall';
import { SpawnEvents } from './spawn-events';
import { SupervisorService } from './supervisor.service';

export const SWEEP_INTERVAL_NAME = 'spawn-sweep';

/** Runs SupervisorService.sweep() every SWEEP_INTERVAL_MS and publishes its duration; the schedule module clears it at shutdown. */
@Injectable()
export class SweepScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(SweepScheduler.name);
  private lastSweepAt: number | undefined;
  /** The service's recent stalls: no server's silence counts across them. */
  private stalls: Stall[] = [];

  constructor(
    private readonly supervisor: SupervisorService,
    private readonly registry: SchedulerRegistry,
    @Inject(TIMING_SETTINGS.token) private readonly timing: TimingSettings,
    private readonly events: SpawnEvents,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    const interval = setInterval(() => this.runSweep(), this.timing.sweepIntervalMs);
    this.registry.addInterval(SWEEP_INTERVAL_NAME, interval);
  }

  private runSweep(): void {
    const startedAt = performance.now();
    try {
      const now = this.clock.now();
      // Timers run before pending I/O: the servers' reports of the stall are read only after this sweep.
      if (sweepStalled(this.lastSweepAt, now, this.timing.sweepIntervalMs)) this.stalled(now);
      this.lastSweepAt = now;
      this.supervisor.sweep(now, this.stalls);
      // Published like every other spawn metric: the metrics module observes it.
      this.events.emitSweep({ durationSeconds: (performance.now() - startedAt) / 1000 });
    } catch (error) {
      this.logger.error(`sweep failed: ${error instanceof Error ? error.stack : String(error)}`);
    }
  }

  private stalled(now: number): void {
    const ms = now - this.lastSweepAt! - this.timing.sweepIntervalMs;
    this.logger.warn(
      `the service did not run for ${(ms / 1000).toFixed(1)} s (stopped or starved): that time ` +
        `does not count as any server's silence, for reports it could not have read`,
    );
    this.stalls = withStall(this.stalls, { at: now, ms });
  }
}
