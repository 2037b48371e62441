import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import type { SpawnState } from '../rules/spawn-state';

export interface SpawnEvent {
  id: string;
  state: SpawnState;
  previousState: SpawnState | null;
  at: string;
  detail?: string;
}

/** One run of the timeout sweep, for the metrics (sc_spawner_sweep_duration_seconds). */
export interface SweepEvent {
  durationSeconds: number;
}

/** The stream of every spawn's state changes (logs, SSE subscribers, metrics, tests) and of each sweep's duration. */
@Injectable()
export class SpawnEvents implements OnApplicationShutdown {
  private readonly subject = new Subject<SpawnEvent>();
  private readonly sweepSubject = new Subject<SweepEvent>();

  get changes$(): Observable<SpawnEvent> {
    return this.subject.asObservable();
  }

  get sweeps$(): Observable<SweepEvent> {
    return this.sweepSubject.asObservable();
  }

  emit(event: SpawnEvent): void {
    this.subject.next(event);
  }

  emitSweep(event: SweepEvent): void {
    this.sweepSubject.next(event);
  }

  onApplicationShutdown(): void {
    this.subject.complete();
    this.sweepSubject.complete();
  }
}
