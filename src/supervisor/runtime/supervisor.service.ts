import { BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import type { Liveliness } from '@app/sc-protocol';
import { Observable } from 'rxjs';
import { Clock } from '../../adapters';
import {
  CAPACITY_SETTINGS,
  type CapacitySettings,
  LISTENER_SETTINGS,
  type ListenerSettings,
  TIMING_SETTINGS,
  type TimingSettings,
} from '../../config';
import { PortAllocator } from '../../ports';
import type { LogLine } from '../rules/line-buffer';
import { SessionLimits } from './session-limits.service';
import { SessionQuotas } from './session-quotas.service';
import { SessionNotice, SpawnEvent, SpawnEvents, ViewerCloseRequest, type SweepEvent } from './spawn-events';
import { SpawnLifecycle } from './spawn-lifecycle';
import { SpawnProcesses } from './spawn-processes';
import { SessionOwner, SpawnRecord, SpawnView, viewOf } from '../rules/spawn-record';
import { SpawnRegistry } from './spawn-registry';
import type { SpawnRequest } from '../rules/spawn-record';
import { SpawnStarter } from './spawn-starter';
import type { SupervisorCapacity } from '../rules/supervisor-capacity';
import type { Stall } from '../rules/service-stall';
import { decideTimeouts } from '../rules/timeout-policy';
import {
  ClientGoneError,
  type NoCapacityError,
  type QuotaExceededError,
  UnknownSpawnError,
} from '../rules/supervisor.errors';
import { TimeoutEnforcer } from './timeout-enforcer';
import { WarmPool, WarmPoolStats } from './warm-pool.service';

export type { SupervisorCapacity };

/** A spawn request with who made it (for SC_KEY_MAX_SESSIONS and the session's `key`) and its own lifetime limit. */
export type SessionRequest = SpawnRequest & { owner?: SessionOwner; maxSessionS?: number };

/**
 * The one door into the supervisor: controllers, the proxy, health and events talk to this and nothing
 * else. It delegates: SpawnStarter starts spawns, SpawnLifecycle moves them through the state table,
 * SpawnProcesses owns their processes, SpawnRegistry knows which exist, decideTimeouts() rules the sweep,
 * WarmPool keeps ready servers to hand out.
 * Spawns go out as frozen SpawnViews; errors are the typed ones of supervisor.errors.ts.
 */
@Injectable()
export class SupervisorService implements BeforeApplicationShutdown {
  readonly changes$: Observable<SpawnEvent>;
  /** Each sweep's duration (for the metrics). */
  readonly sweeps$: Observable<SweepEvent>;
  /** `expiring` warnings (and their cancellations) before a session limit ends a session. */
  readonly notices$: Observable<SessionNotice>;
  /** Sessions being stopped whose viewer the relay closes with a code and reason (a limit, a DELETE). */
  readonly viewerCloses$: Observable<ViewerCloseRequest>;

  constructor(
    @Inject(CAPACITY_SETTINGS.token) private readonly capacitySettings: CapacitySettings,
    @Inject(LISTENER_SETTINGS.token) private readonly listener: ListenerSettings,
    @Inject(TIMING_SETTINGS.token) private readonly timing: TimingSettings,
    private readonly registry: SpawnRegistry,
    private readonly lifecycle: SpawnLifecycle,
    private readonly processes: SpawnProcesses,
    private readonly starter: SpawnStarter,
    private readonly ports: PortAllocator,
    private readonly clock: Clock,
    private readonly warmPool: WarmPool,
    private readonly enforcer: TimeoutEnforcer,
    private readonly limits: SessionLimits,
    private readonly quotas: SessionQuotas,
    events: SpawnEvents,
  ) {
    this.changes$ = events.changes$;
    this.sweeps$ = events.sweeps$;
    this.notices$ = events.notices$;
    this.viewerCloses$ = events.viewerCloses$;
  }

  get isShuttingDown(): boolean {
    return this.registry.shuttingDown;
  }

  capacity(): SupervisorCapacity {
    const spareWarm = this.registry.spareWarmCount();
    return {
      activeSpawns: this.registry.activeCount(),
      maxSpawns: this.capacitySettings.maxSpawns,
      hasFreeSlot: this.registry.hasFreeSlot(),
      freeSlots: Math.max(0, this.capacitySettings.maxSpawns - this.registry.activeCount()) + spareWarm,
      spareWarm,
      canAcceptSpawn: !this.registry.takesNoNewSpawns && this.starter.canTakeSlot(),
      shuttingDown: this.registry.shuttingDown,
      draining: this.registry.draining,
      ports: this.ports.counts(),
      states: this.registry.countByState(),
      warm: this.warmPool.status(),
    };
  }

  /**
   * Probes the ports whose last probe is stale, so capacity() counts only ports that could be leased now: for the
   * next caller, waiting only for the first pass (PortAllocator.refreshForNext).
   */
  refreshPorts(): Promise<void> {
    return this.ports.refreshForNext();
  }

  /** Counters for metrics: warm servers ready, claims, and misses by reason. */
  warmStats(): WarmPoolStats {
    return this.warmPool.stats();
  }

  get(id: string): SpawnView | undefined {
    const record = this.registry.record(id);
    return record && viewOf(record);
  }

  /** The live session a relay token (`/ws/<token>`) opens, if any. */
  getByRelayToken(token: string): SpawnView | undefined {
    const record = this.registry.byRelayToken(token);
    return record && viewOf(record);
  }

  /** Like get(), but an unknown id is an UnknownSpawnError. */
  find(id: string): SpawnView {
    const view = this.get(id);
    if (!view) throw new UnknownSpawnError(id);
    return view;
  }

  /** The refusal every spawn request would get now, whatever it asks: the route may give it before validating. */
  refusalForEveryRequest(): NoCapacityError | undefined {
    return this.starter.refusalForEveryRequest();
  }

  /** Live sessions, not counting warm servers still waiting in the pool for a viewer (no views built: per event). */
  liveSessionCount(): number {
    return this.registry.liveSessionCount();
  }

  /** Live spawns first (oldest first), then the ended ones kept (most recent first). */
  list(): SpawnView[] {
    return this.registry.records().map(viewOf);
  }

  /** The server's last output lines, license redacted. */
  logs(id: string): LogLine[] {
    const record = this.registry.record(id);
    if (!record) throw new UnknownSpawnError(id);
    return record.logs.all();
  }

  /**
   * A ready warm server if the request needs no options; else starts one and resolves once ready (signal: client
   * left). The caller's quota (SC_KEY_MAX_SESSIONS) is checked first: QuotaExceededError beyond it.
   */
  async spawn(request: SessionRequest, signal?: AbortSignal): Promise<SpawnView> {
    const { owner, maxSessionS, ...spawnRequest } = request;
    const record = await this.quotas.admit(owner, async () => {
      // A claim answers at once and nobody would stop it: a warm server handed to a client already gone lived on for
      // SC_WARM_MAX_AGE_S + SC_INITIAL_USE_DURATION_S, holding its slot and the caller's quota.
      if (signal?.aborted) throw new ClientGoneError();
      const started = this.warmPool.claim(spawnRequest) ?? (await this.starter.startReady(spawnRequest, signal));
      this.adopt(started, owner, maxSessionS);
      return started;
    });
    return viewOf(record);
  }

  /** The session is now the caller's: its key, its own lifetime limit, and whether the relay watches it. */
  private adopt(record: SpawnRecord, owner: SessionOwner | undefined, maxSessionS: number | undefined): void {
    record.owner = owner;
    record.maxSessionS = maxSessionS;
    record.watched ||= record.spec.origin === 'connect' || this.listener.publicEndpoint === 'proxy';
  }

  /** Where a caller stands against SC_KEY_MAX_SESSIONS: its cap, and the refusal a spawn would get now. */
  quotaStanding(owner: SessionOwner): { limit?: number; exceeded?: QuotaExceededError } {
    return this.quotas.standing(owner);
  }

  /** The quota refusal a spawn by the caller gets now (counted), or undefined: for a door that decides early. */
  quotaRefusal(owner: SessionOwner): QuotaExceededError | undefined {
    return this.quotas.refusal(owner);
  }

  /** Quota refusals so far, by key name (`anonymous` for callers without a key). */
  quotaRejections(): ReadonlyMap<string, number> {
    return this.quotas.rejectionCounts();
  }

  /** Starts a server without waiting for it to be ready. */
  async launch(request: SpawnRequest): Promise<SpawnView> {
    return viewOf(await this.starter.launch(request));
  }

  async waitUntilReady(id: string, signal?: AbortSignal): Promise<SpawnView> {
    return viewOf(await this.starter.waitUntilReady(id, signal));
  }

  /** While the spawn's process is being started: settles once its pid is known (or nothing was started). */
  launching(id: string): Promise<void> | undefined {
    return this.registry.liveEntry(id)?.launching;
  }

  report(id: string, value: Liveliness): void {
    if (!this.lifecycle.report(id, value)) throw new UnknownSpawnError(id);
  }

  viewerAttached(id: string): void {
    this.lifecycle.viewerAttached(id);
  }

  viewerRefused(id: string): void {
    this.lifecycle.viewerRefused(id);
  }

  viewerDetached(id: string): void {
    this.lifecycle.viewerDetached(id);
  }

  /** What the relay carried (messages from the viewer are its activity). */
  countViewerBytes(id: string, direction: 'toServer' | 'toViewer', bytes: number, messages = 0): void {
    this.lifecycle.countViewerBytes(id, direction, bytes, messages);
  }

  /**
   * SIGTERM to its process group, SIGKILL after KILL_GRACE_S (from the sweep). Idempotent. With `viewerClose`,
   * the relay closes the viewer's socket with that code and reason (e.g. 4003 stopped by operator).
   */
  stop(id: string, reason: string, viewerClose?: { code: number; reason: string }): SpawnView {
    const live = this.registry.liveEntry(id);
    if (!live) this.find(id);
    else if (viewerClose && live.record.state !== 'terminating') live.record.viewerClose ??= viewerClose;
    this.processes.stop(id, reason);
    return this.find(id);
  }

  /** Enforces the ready timeout, the ping timeout and the kill escalation; run by SweepScheduler. */
  sweep(now: number = this.clock.now(), stalls: readonly Stall[] = []): void {
    const records = this.registry.liveEntries().map((entry) => entry.record);
    for (const action of decideTimeouts(records, now, this.timing, stalls)) this.enforcer.enforce(action, now);
    this.limits.sweep(now, stalls);
  }

  /** Refuses new spawns (NoCapacityError 'draining') and stops the unclaimed warm servers; sessions go on. */
  beginDrain(): void {
    this.registry.draining = true;
    void this.warmPool.stopAll();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.shutdown();
  }

  /** Refuses new spawns, stops the unclaimed warm servers, then every other server, and waits for the exits. */
  async shutdown(): Promise<void> {
    this.registry.shuttingDown = true;
    await this.warmPool.stopAll();
    await this.processes.stopAll('the service is shutting down');
  }
}
