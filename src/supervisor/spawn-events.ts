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

/** The stream of every spawn's state changes, for logs, SSE subscribers and tests. */
@Injectable()
export class SpawnEvents implements OnApplicationShutdown {
  private readonly subject = new Subject<SpawnEvent>();
  get changes$(): Observable<SpawnEvent> {
    return this.subject.asObservable();
  }

  emit(event: SpawnEvent): void {
    this.subject.next(event);
  }

  onApplicationShutdown(): void {
    this.subject.complete();
  }
}
