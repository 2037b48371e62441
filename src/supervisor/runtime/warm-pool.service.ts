import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { RendererType } from '@app/sc-protocol';
import { Clock } from '../../adapters';
import { TIMING_SETTINGS, type TimingSettings, WARM_POOL_SETTINGS, type WarmPoolSettings } from '../../config';
import { SpawnEvent, SpawnEvents } from './spawn-events';
import type { SpawnRecord } from '../rules/spawn-record';
import { SpawnRegistry } from './spawn-registry';
import { SpawnProcesses } from './spawn-processes';
import type { SpawnRequest } from '../rules/spawn-record';
import { SpawnStarter } from './spawn-starter';
import {
  backoffAfterFailure,
  backoffAfterReady,
  decideWarmPool,
  isFailing,
  PerRenderer,
  WarmBackoff,
  WarmMember,
  type WarmPoolStatus,
} from '../rules/warm-pool.policy';

export type { WarmPoolStatus };

export const WARM_POOL_INTERVAL_NAME = 'warm-pool';

/** Why a spawn request did not get a warm server (for renderers that have a pool). */
export type WarmMissReason = 'needs_options' | 'none_ready';

/**
 * Counters for the metrics module: sc_spawner_warm_servers{renderer} (gauge: servers), sc_spawner_warm_claims_total{renderer}
 * and sc_spawner_warm_misses_total{renderer,reason}.
 */
export interface WarmPoolStats {
  servers: PerRenderer<number>;
  claims: PerRenderer<number>;
  misses: PerRenderer<Partial<Record<WarmMissReason, number>>>;
}

/** Failure, for the backoff: it failed to start, timed out, stopped reporting, or died on its own while waiting. */
function isFailure(event: SpawnEvent): boolean {
  if (event.state === 'failed' || event.state === 'timed_out' || event.state === 'unresponsive') return true;
  return event.state === 'exited' && (event.previousState === 'ready' || event.previousState === 'connected');
}

/**
 * Keeps SC_WARM_POOL_CSR / SC_WARM_POOL_SSR ready servers started with no per-session options, and hands one out
 * to a request that needs none. Applies decideWarmPool() on every relevant spawn event and on a scheduled tick.
 */
@Injectable()
export class WarmPool implements OnApplicationBootstrap {
  private readonly logger = new Logger('WarmPool');
  private backoff: PerRenderer<WarmBackoff> = { csr: { failures: 0 }, ssr: { failures: 0 } };
  /** Ids of warm launches under way; one counts as launching only until it is registered (then it is a member). */
  private readonly launches: PerRenderer<Set<string>> = { csr: new Set(), ssr: new Set() };
  private readonly claims: PerRenderer<number> = { csr: 0, ssr: 0 };
  private readonly misses: WarmPoolStats['misses'] = { csr: {}, ssr: {} };
  private reconcileQueued = false;

  constructor(
    @Inject(WARM_POOL_SETTINGS.token) private readonly settings: WarmPoolSettings,
    @Inject(TIMING_SETTINGS.token) private readonly timing: TimingSettings,
    private readonly registry: SpawnRegistry,
    private readonly starter: SpawnStarter,
    private readonly processes: SpawnProcesses,
    private readonly clock: Clock,
    private readonly scheduler: SchedulerRegistry,
    events: SpawnEvents,
  ) {
    if (this.enabled) events.changes$.subscribe((event) => this.onEvent(event));
  }

  get enabled(): boolean {
    return this.settings.warmPool.csr + this.settings.warmPool.ssr > 0;
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.scheduler.addInterval(
      WARM_POOL_INTERVAL_NAME,
      setInterval(() => this.reconcile(), this.timing.sweepIntervalMs),
    );
    this.reconcile();
  }

  /** Hands out a ready warm server if the request needs nothing on the command line; undefined otherwise. */
  claim(request: SpawnRequest): SpawnRecord | undefined {
    const renderer = request.rendererType;
    if (this.settings.warmPool[renderer] === 0 || this.registry.takesNoNewSpawns) return undefined;
    if (request.model || request.sessionToken || request.extraModelDirs?.length || request.id !== undefined) {
      return this.miss(renderer, 'needs_options');
    }
    const now = this.clock.now();
    // A server that missed its last report may be frozen: leave it to the sweep rather than hand it out.
    const freshSince = now - 2 * this.timing.livelinessIntervalS * 1000;
    const record = this.members()
      .filter((r) => r.spec.rendererType === renderer && r.state === 'ready')
      .find((r) => (r.lastReportAt ?? r.readyAt ?? 0) >= freshSince);
    if (!record) return this.miss(renderer, 'none_ready');
    record.claim(now);
    this.claims[renderer]++;
    this.logger.log(`spawn ${record.id}: claimed from the warm ${renderer} pool; starting a replacement`);
    this.queueReconcile();
    return record;
  }

  /** Applies the policy once: retire what aged out, start what is missing. */
  reconcile(): void {
    if (!this.enabled) return;
    const actions = decideWarmPool({
      now: this.clock.now(),
      desired: this.settings.warmPool,
      members: this.members().map(memberOf),
      launching: this.launching(),
      freeSlots: this.starter.freeSlotsWithPort(),
      backoff: this.backoff,
      maxAgeMs: this.settings.warmMaxAgeS * 1000,
      shuttingDown: this.registry.takesNoNewSpawns,
    });
    for (const action of actions) {
      if (action.kind === 'retire') this.processes.stop(action.id, action.reason);
      else if (action.kind === 'start') for (let i = 0; i < action.count; i++) void this.startOne(action.renderer);
    }
  }

  /** Stops every unclaimed warm server and waits for them (shutdown does this before the live sessions). */
  async stopAll(): Promise<void> {
    await this.processes.stopAll('the service is shutting down (unclaimed warm server)', (r) => r.isUnclaimedWarm);
  }

  status(): WarmPoolStatus {
    const count = (renderer: RendererType, state: string) =>
      this.members().filter((r) => r.spec.rendererType === renderer && r.state === state).length;
    const launching = this.launching();
    const failing = (['csr', 'ssr'] as const).filter((r) => isFailing(this.backoff[r]));
    const retryAts = failing.map((r) => this.backoff[r].retryAt).filter((t): t is number => t !== undefined);
    return {
      csr: count('csr', 'ready'),
      ssr: count('ssr', 'ready'),
      target: { ...this.settings.warmPool },
      starting: {
        csr: count('csr', 'starting') + launching.csr,
        ssr: count('ssr', 'starting') + launching.ssr,
      },
      failing:
        failing.length === 0
          ? null
          : failing
              .map(
                (r) =>
                  `warm ${r} servers keep failing to start (${this.backoff[r].failures} in a row): ${this.backoff[r].lastFailure}`,
              )
              .join('; '),
      retryAt: retryAts.length === 0 ? null : this.clock.toDate(Math.min(...retryAts)).toISOString(),
    };
  }

  stats(): WarmPoolStats {
    const { csr, ssr } = this.status();
    return {
      servers: { csr, ssr },
      claims: { ...this.claims },
      misses: { csr: { ...this.misses.csr }, ssr: { ...this.misses.ssr } },
    };
  }

  /** Unclaimed warm servers that hold a slot (any live state). */
  private members(): SpawnRecord[] {
    return this.registry
      .liveEntries()
      .map((entry) => entry.record)
      .filter((record) => record.isUnclaimedWarm);
  }

  private miss(renderer: RendererType, reason: WarmMissReason): undefined {
    this.misses[renderer][reason] = (this.misses[renderer][reason] ?? 0) + 1;
    return undefined;
  }

  /** Warm launches still leasing their port: once registered, a launch is counted as a member, not twice. */
  private launching(): PerRenderer<number> {
    const pending = (renderer: RendererType) => [...this.launches[renderer]].filter((id) => !this.registry.has(id));
    return { csr: pending('csr').length, ssr: pending('ssr').length };
  }

  private async startOne(renderer: RendererType): Promise<void> {
    const id = crypto.randomUUID();
    this.launches[renderer].add(id);
    try {
      await this.starter.launch({ rendererType: renderer, warm: true, id });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.warn(`could not start a warm ${renderer} server: ${reason}`);
    } finally {
      this.launches[renderer].delete(id);
    }
  }

  private onEvent(event: SpawnEvent): void {
    const record = this.registry.record(event.id);
    if (!record?.isUnclaimedWarm) return;
    const renderer = record.spec.rendererType;
    if (event.state === 'ready') {
      this.backoff = { ...this.backoff, [renderer]: backoffAfterReady() };
    } else if (isFailure(event) && !this.registry.takesNoNewSpawns) {
      const reason = record.endReason ?? event.detail ?? event.state;
      const next = backoffAfterFailure(this.backoff[renderer], this.clock.now(), reason);
      this.backoff = { ...this.backoff, [renderer]: next };
      this.logger.warn(
        `warm ${renderer} server ${record.id} failed (${next.failures} in a row; next start in ${next.retryAt! - this.clock.now()} ms): ${reason}`,
      );
    }
    if (event.state === 'ready' || event.state === 'failed' || event.state === 'exited') this.queueReconcile();
  }

  /** Once per turn of the event loop, after the event that asked for it is fully handled (its slot freed). */
  private queueReconcile(): void {
    if (this.reconcileQueued) return;
    this.reconcileQueued = true;
    setImmediate(() => {
      this.reconcileQueued = false;
      this.reconcile();
    });
  }
}

function memberOf(record: SpawnRecord): WarmMember {
  return { id: record.id, renderer: record.spec.rendererType, state: record.state, startedAt: record.startedAt };
}
