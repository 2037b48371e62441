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

/**
 * A notice about a session that is not a state change (sent as a named SSE event): `expiring` before a limit
 * ends it, `expiring_cancelled` when its viewer's activity cancels an idle warning.
 */
export interface SessionNotice {
  id: string;
  event: 'expiring' | 'expiring_cancelled';
  reason: 'idle' | 'lifetime';
  /** Seconds until the end (expiring only). */
  secondsLeft?: number;
  at: string;
}

export interface ViewerCloseRequest {
  id: string;
  code: number;
  reason: string;
}

/** One run of the timeout sweep, for the metrics (sc_spawner_sweep_duration_seconds). */
export interface SweepEvent {
  durationSeconds: number;
}

/** The streams of the supervisor: state changes, session notices, viewer closes, and each sweep's duration. */
@Injectable()
export class SpawnEvents implements OnApplicationShutdown {
  private readonly subject = new Subject<SpawnEvent>();
  private readonly sweepSubject = new Subject<SweepEvent>();
  private readonly noticeSubject = new Subject<SessionNotice>();
  private readonly viewerCloseSubject = new Subject<ViewerCloseRequest>();
  /** Sessions being stopped whose viewer the relay must close with a code and reason (a limit, a DELETE). */
  get viewerCloses$(): Observable<ViewerCloseRequest> {
    return this.viewerCloseSubject.asObservable();
  }

  closeViewer(request: ViewerCloseRequest): void {
    this.viewerCloseSubject.next(request);
  }
  get notices$(): Observable<SessionNotice> {
    return this.noticeSubject.asObservable();
  }

  notify(notice: SessionNotice): void {
    this.noticeSubject.next(notice);
  }

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
    this.noticeSubject.complete();
    this.viewerCloseSubject.complete();
  }
}
