import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { Clock } from '../adapters';
import { SpawnerMetrics } from '../metrics';
import { SupervisorService } from '../supervisor';
import type { SpawnEvent } from '../supervisor';
import { HistorySnapshot, HistoryWindow } from './history-window';

/** Feeds the rolling history from the supervisor's state changes and the rejection counts. */
@Injectable()
export class HistoryRecorder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly window: HistoryWindow;
  private subscription?: Subscription;

  constructor(
    private readonly supervisor: SupervisorService,
    private readonly metrics: SpawnerMetrics,
    private readonly clock: Clock,
  ) {
    this.window = new HistoryWindow(clock.now());
  }

  onApplicationBootstrap(): void {
    this.subscription = this.supervisor.changes$.subscribe((event) => this.observe(event));
    this.metrics.onRejection((reason) => this.window.rejected(this.clock.now(), reason));
  }

  onApplicationShutdown(): void {
    this.subscription?.unsubscribe();
  }

  snapshot(): HistorySnapshot {
    this.window.sessionsLive(this.clock.now(), this.supervisor.liveSessionCount());
    return this.window.snapshot(this.clock.now(), (t) => this.clock.toDate(t));
  }

  private observe(event: SpawnEvent): void {
    const now = this.clock.now();
    if (event.state === 'ready' && event.previousState === 'starting') {
      const view = this.supervisor.get(event.id);
      if (view?.readyAt !== undefined && !view.spec.warm) this.window.startup(now, view.readyAt - view.startedAt);
    }
    this.window.sessionsLive(now, this.supervisor.liveSessionCount());
  }
}
