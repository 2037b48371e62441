import { Injectable, Logger } from '@nestjs/common';
import type { Liveliness } from '@app/sc-protocol';
import { Clock } from '../../adapters';
import { SpawnEvents } from './spawn-events';
import { SpawnRecord, viewOf } from '../rules/spawn-record';
import { LiveSpawn, SpawnRegistry } from './spawn-registry';
import { assertTransition, SpawnState } from '../rules/spawn-state';
import { NotReadyCause, SpawnNotReadyError, UnknownSpawnError } from '../rules/supervisor.errors';

/** Moves spawns through the state table: every change is checked, logged, published, and answers the waiters. */
@Injectable()
export class SpawnLifecycle {
  private readonly logger = new Logger('Supervisor');

  constructor(
    private readonly registry: SpawnRegistry,
    private readonly events: SpawnEvents,
    private readonly clock: Clock,
  ) {}

  announce(record: SpawnRecord): void {
    this.events.emit({
      id: record.id,
      state: record.state,
      previousState: null,
      at: this.clock.toDate(record.startedAt).toISOString(),
    });
  }

  transition(entry: LiveSpawn, to: SpawnState, detail?: string): void {
    const record = entry.record;
    const from = record.state;
    assertTransition(from, to);
    record.state = to;
    record.stateChangedAt = this.clock.now();
    const line = {
      spawnId: record.id,
      from,
      to,
      ...(to === 'ready' && record.readyAt !== undefined ? { startupMs: record.readyAt - record.startedAt } : {}),
      msg: `spawn ${record.id}: ${from} -> ${to}${detail ? ` (${detail})` : ''}`,
    };
    if (to === 'failed' || to === 'timed_out' || to === 'unresponsive') this.logger.warn(line);
    else this.logger.log(line);
    this.events.emit({
      id: record.id,
      state: to,
      previousState: from,
      at: this.clock.toDate(record.stateChangedAt).toISOString(),
      detail,
    });
    if (from !== 'starting') return;
    for (const waiter of entry.waiters.splice(0)) {
      if (to === 'ready') waiter.resolve(record);
      else
        waiter.reject(
          new SpawnNotReadyError(viewOf(record), notReadyCause(to), record.endReason ?? detail ?? `spawn is ${to}`),
        );
    }
  }

  /** A liveliness report from a server; any report refreshes its last-report time. False for an unknown id. */
  report(id: string, value: Liveliness): boolean {
    const entry = this.registry.liveEntry(id);
    if (!entry) return this.registry.has(id);
    const record = entry.record;
    record.lastReportAt = this.clock.now();
    if (value === 'ready' && record.state === 'starting') {
      record.readyAt = record.lastReportAt;
      this.transition(entry, 'ready', `ready after ${record.readyAt - record.startedAt} ms`);
    } else if (value === 'disconnect' && (record.state === 'ready' || record.state === 'connected')) {
      this.transition(entry, 'disconnected', 'the server reported disconnect');
    }
    return true;
  }

  /** A viewer attached through the proxy. */
  viewerAttached(id: string): void {
    const entry = this.registry.liveEntry(id);
    if (entry?.record.state !== 'ready') return;
    entry.record.connectedAt = this.clock.now();
    entry.record.watched = true;
    this.transition(entry, 'connected', 'a viewer attached through the proxy');
  }

  /** The server turned the proxied viewer away (wrong session token): it keeps waiting for a valid viewer. */
  viewerRefused(id: string): void {
    const entry = this.registry.liveEntry(id);
    if (entry?.record.state !== 'connected') return;
    entry.record.connectedAt = undefined;
    this.transition(entry, 'ready', 'the server refused the viewer (policy violation); waiting for another');
  }

  /** The proxied viewer left; the server should report disconnect and exit (the sweep stops it if it does not). */
  viewerDetached(id: string): void {
    const record = this.registry.liveEntry(id)?.record;
    if (record && record.viewerLeftAt === undefined) record.viewerLeftAt = this.clock.now();
  }

  /** Payload bytes and complete messages the relay carried; a message from the viewer is its activity. */
  countViewerBytes(id: string, direction: 'toServer' | 'toViewer', bytes: number, messages = 0): void {
    const record = this.registry.liveEntry(id)?.record;
    if (!record) return;
    record[direction === 'toServer' ? 'bytesToServer' : 'bytesToViewer'] += bytes;
    record.relay[direction].bytes += bytes;
    record.relay[direction].messages += messages;
    if (direction === 'toServer' && messages > 0) record.lastActivityAt = this.clock.now();
  }

  /** Resolves once the spawn is ready; rejects with SpawnNotReadyError if it fails, times out or is stopped first. */
  waitUntilReady(id: string): Promise<SpawnRecord> {
    const entry = this.registry.liveEntry(id);
    const record = this.registry.record(id);
    if (!record) return Promise.reject(new UnknownSpawnError(id));
    if (record.state === 'ready' || record.state === 'connected') return Promise.resolve(record);
    if (!entry || record.state !== 'starting') {
      const cause = record.state === 'failed' ? 'failed' : 'stopped';
      return Promise.reject(
        new SpawnNotReadyError(viewOf(record), cause, record.endReason ?? `spawn is ${record.state}`),
      );
    }
    return new Promise<SpawnRecord>((resolve, reject) => entry.waiters.push({ resolve, reject }));
  }
}

function notReadyCause(leftStartingFor: SpawnState): NotReadyCause {
  if (leftStartingFor === 'failed' || leftStartingFor === 'timed_out') return leftStartingFor;
  return 'stopped';
}
