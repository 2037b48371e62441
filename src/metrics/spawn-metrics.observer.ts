import { CpuPriority } from '../cpu-priority';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import {
  isTerminal,
  portsForNewSession,
  SupervisorService,
  type SpawnEvent,
  type SupervisorCapacity,
} from '../supervisor';
import { exitReasonLabel, SpawnerMetrics, SpawnOutcome } from './spawner-metrics';

/** How a spawn left `starting`, as an outcome label. */
export function outcomeOf(event: SpawnEvent): SpawnOutcome | undefined {
  if (event.previousState !== 'starting') return undefined;
  switch (event.state) {
    case 'ready':
    case 'failed':
    case 'timed_out':
      return event.state;
    default:
      return 'aborted';
  }
}

/** The readiness gauge's reading (GET /health/ready also checks the executable on disk). */
export function isReady(capacity: SupervisorCapacity): boolean {
  const open = !capacity.shuttingDown && !capacity.draining && capacity.canAcceptSpawn;
  return open && portsForNewSession(capacity) > 0 && capacity.warm.failing === null;
}

/** Feeds the spawn metrics by watching the supervisor's state changes and sweeps; reads its counts at scrape time. */
@Injectable()
export class SpawnMetricsObserver implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly subscriptions: Subscription[] = [];
  private readonly starting = new Map<string, { renderer: string; startedAt: number }>();

  constructor(
    private readonly supervisor: SupervisorService,
    private readonly metrics: SpawnerMetrics,
    private readonly priority: CpuPriority,
  ) {}

  onApplicationBootstrap(): void {
    this.metrics.readFrom({
      states: () => this.supervisor.capacity().states,
      maxSpawns: () => this.supervisor.capacity().maxSpawns,
      portsFree: () => this.supervisor.capacity().ports.free,
      portsBusy: () => this.supervisor.capacity().ports.busy,
      draining: () => this.supervisor.capacity().draining,
      ready: () => isReady(this.supervisor.capacity()),
      warm: () => this.supervisor.warmStats(),
      quotaRejections: () => this.supervisor.quotaRejections(),
      warmTarget: () => this.supervisor.capacity().warm.target,
      cpuPriority: () => this.priority.mechanism,
    });
    this.subscriptions.push(
      this.supervisor.changes$.subscribe((event) => this.observe(event)),
      this.supervisor.sweeps$.subscribe((sweep) => this.metrics.sweepDuration.observe(sweep.durationSeconds)),
    );
  }

  onApplicationShutdown(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }

  private observe(event: SpawnEvent): void {
    if (event.state === 'starting') {
      const view = this.supervisor.get(event.id);
      if (view) this.starting.set(event.id, { renderer: view.spec.rendererType, startedAt: view.startedAt });
      return;
    }
    const outcome = outcomeOf(event);
    const started = this.starting.get(event.id);
    if (outcome && started) {
      this.starting.delete(event.id);
      const labels = { renderer: started.renderer, outcome };
      this.metrics.spawnsTotal.inc(labels);
      this.metrics.spawnDuration.observe(labels, Math.max(0, Date.parse(event.at) - started.startedAt) / 1000);
    }
    if (isTerminal(event.state)) {
      this.starting.delete(event.id);
      const view = this.supervisor.get(event.id);
      this.metrics.serverExits.inc({ reason: exitReasonLabel(view?.exitCode, view?.signal) });
    }
  }
}
