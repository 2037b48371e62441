import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import type { SpawnState } from './spawn-state';

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

/** The stream of every spawn's state changes, for logs, SSE subscribers and tests. */
@Injectable()
export class SpawnEvents implements OnApplicationShutdown {
  private readonly subject = new Subject<SpawnEvent>();
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

  emit(event: SpawnEvent): void {
    this.subject.next(event);
  }

  onApplicationShutdown(): void {
    this.subject.complete();
    this.noticeSubject.complete();
    this.viewerCloseSubject.complete();
  }
}
