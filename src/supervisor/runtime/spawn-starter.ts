import { Inject, Injectable, Logger } from '@nestjs/common';
import { type RendererType, SC_EXIT_CODES } from '@app/sc-protocol';
import {
  CAPACITY_SETTINGS,
  type CapacitySettings,
  RENDERING_SETTINGS,
  type RenderingSettings,
  TIMING_SETTINGS,
  type TimingSettings,
} from '../../config';
import { PortAllocator } from '../../ports';
import { SpawnLifecycle } from './spawn-lifecycle';
import { SpawnProcesses } from './spawn-processes';
import type { SpawnRecord, SpawnRequest } from '../rules/spawn-record';
import { SpawnRegistry } from './spawn-registry';
import { pickWarmToRetire } from '../rules/warm-pool.policy';
import { refusalForEveryRequest } from '../rules/supervisor-capacity';
import {
  ClientGoneError,
  DuplicateSpawnError,
  NoCapacityError,
  RendererDisabledError,
  SpawnNotReadyError,
} from '../rules/supervisor.errors';

/** Gets a spawn started (a slot, a port, the process) and, when asked, ready: the one retry after a lost port race included. */
@Injectable()
export class SpawnStarter {
  private readonly logger = new Logger('Supervisor');

  constructor(
    @Inject(CAPACITY_SETTINGS.token) private readonly capacity: CapacitySettings,
    @Inject(RENDERING_SETTINGS.token) private readonly rendering: RenderingSettings,
    @Inject(TIMING_SETTINGS.token) private readonly timing: TimingSettings,
    private readonly registry: SpawnRegistry,
    private readonly lifecycle: SpawnLifecycle,
    private readonly processes: SpawnProcesses,
    private readonly ports: PortAllocator,
  ) {}

  /** Starts a spawn and waits until it is ready. A client leaving (signal) stops it. */
  async startReady(request: SpawnRequest, signal?: AbortSignal): Promise<SpawnRecord> {
    this.assertRendererEnabled(request.rendererType);
    for (let attempt = 1; ; attempt++) {
      const record = await this.launch(request, signal);
      try {
        return await this.waitUntilReady(record.id, signal);
      } catch (error) {
        if (attempt === 1 && (await this.lostPortRace(error))) {
          this.logger.warn(
            `spawn ${record.id} could not bind port ${record.spec.wsPort}, which another program took; retrying on another port`,
          );
          continue;
        }
        // Stopped by the shutdown: tell the client to go elsewhere, as a new request would be told.
        if (error instanceof SpawnNotReadyError && this.registry.shuttingDown) throw shuttingDown();
        throw error;
      }
    }
  }

  /**
   * Reserves a slot and has the process started (SpawnProcesses leases its port). Throws NoCapacityError when no
   * slot or port is free. A cold request (not warm) at capacity retires an unclaimed warm server and takes its slot
   * once that process has exited. The reservation becomes the live spawn's slot when the spawn is registered.
   * `signal`: a client gone by then (a warm server's exit can take KILL_GRACE_S) gets nothing started.
   */
  async launch(request: SpawnRequest, signal?: AbortSignal): Promise<SpawnRecord> {
    if (this.registry.shuttingDown) throw shuttingDown();
    if (this.registry.draining) throw draining();
    if (request.id !== undefined && this.registry.has(request.id)) throw new DuplicateSpawnError(request.id);
    await this.reserveSlot(request.warm === true);
    if (signal?.aborted) {
      this.registry.releaseSlot();
      throw new ClientGoneError();
    }
    try {
      return await this.processes.start({
        ...request,
        id: request.id ?? crypto.randomUUID(),
        origin: request.origin ?? 'api',
      });
    } catch (error) {
      this.registry.releaseSlot();
      throw error;
    }
  }

  /** The refusal any spawn request would get now, whatever it asks (see refusalForEveryRequest). */
  refusalForEveryRequest(): NoCapacityError | undefined {
    return refusalForEveryRequest({
      shuttingDown: this.registry.shuttingDown,
      draining: this.registry.draining,
      hasFreeSlot: this.registry.hasFreeSlot(),
      unclaimedWarm: this.registry.unclaimedWarmCount(),
      maxSpawns: this.capacity.maxSpawns,
    });
  }

  /**
   * Free slots a warm start could use now: no more than the ports this node's servers leave (SC_PORT_COUNT <
   * SC_MAX_SPAWNS), where a start would only fail, warned of at every sweep. A port another program holds still
   * counts: a lease probes it again.
   */
  freeSlotsWithPort(): number {
    const { total, leased } = this.ports.counts();
    return Math.max(0, Math.min(this.capacity.maxSpawns - this.registry.activeCount(), total - leased));
  }

  /** Whether a cold request would get a slot now: one is free, or an unclaimed warm server can give up its own. */
  canTakeSlot(): boolean {
    return this.registry.hasFreeSlot() || this.warmSlot() !== undefined;
  }

  /**
   * Takes a slot for the launch (the caller releases it once the process is registered). At capacity, or with every
   * port leased, a cold request SIGTERMs an unclaimed warm server and holds the reservation while it exits (its port
   * coming back), so the live processes never exceed SC_MAX_SPAWNS and nobody else takes that slot meanwhile.
   */
  private async reserveSlot(warm: boolean): Promise<void> {
    const full = () => NoCapacityError.slotsFull(this.capacity.maxSpawns);
    const portFree = warm || this.ports.counts().free > 0;
    if (this.registry.hasFreeSlot() && portFree) return this.registry.reserveSlot();
    const victim = warm ? undefined : this.warmSlot();
    // No port: leasing says so (503 with the range and who holds it).
    if (!victim && this.registry.hasFreeSlot()) return this.registry.reserveSlot();
    if (!victim) throw full();
    // The victim's slot is ours: counted once until it has exited, then as this reservation.
    this.registry.reserveSlotOf(victim);
    // Idempotent: a warm server already on its way out (aged out) keeps its own reason.
    this.processes.stop(victim, 'retired from the warm pool: its slot went to a request that needed a cold start');
    // SIGTERM, SIGKILL after KILL_GRACE_S (by the sweep), and the exit: within the grace twice over plus a second.
    const exited = await this.processes.waitForExit(victim, this.timing.killGraceS * 2000 + 1000);
    if (exited && !this.registry.shuttingDown) return;
    this.registry.releaseSlotOf(victim);
    throw this.registry.shuttingDown ? shuttingDown() : full();
  }

  /**
   * The unclaimed warm server whose slot a cold request can take: one to retire or, when none is left, one already
   * being stopped (aged out, say) that no other request waits for. Its slot would otherwise only refill the pool.
   */
  private warmSlot(): string | undefined {
    const retirable = this.retirableWarm();
    if (retirable) return retirable.id;
    const leaving = this.registry
      .liveEntries()
      .find(
        ({ record }) =>
          record.isUnclaimedWarm && record.state === 'terminating' && !this.registry.isHandedOver(record.id),
      );
    return leaving?.record.id;
  }

  private retirableWarm() {
    const members = this.registry
      .liveEntries()
      .filter((entry) => entry.record.isUnclaimedWarm)
      .map(({ record }) => ({
        id: record.id,
        renderer: record.spec.rendererType,
        state: record.state,
        startedAt: record.startedAt,
      }));
    return pickWarmToRetire(members);
  }

  /** Resolves once the spawn is ready; a client going away first (signal) stops it. */
  waitUntilReady(id: string, signal?: AbortSignal): Promise<SpawnRecord> {
    const ready = this.lifecycle.waitUntilReady(id);
    if (!signal) return ready;
    const stop = () => this.processes.stop(id, 'the client went away before the server was ready');
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    return ready.finally(() => signal.removeEventListener('abort', stop));
  }

  assertRendererEnabled(rendererType: RendererType): void {
    const enabled = rendererType === 'ssr' ? this.rendering.ssrEnabled : this.rendering.csrEnabled;
    if (!enabled) throw new RendererDisabledError(rendererType);
  }

  /** The server exited 3 before ready and its port is now held by someone else: the probe lost a race. */
  private async lostPortRace(error: unknown): Promise<boolean> {
    if (!(error instanceof SpawnNotReadyError) || error.reason !== 'failed') return false;
    if (error.spawn.exitCode !== SC_EXIT_CODES.INTERNAL_ERROR) return false;
    return this.processes.portTakenByAnother(error.spawn.spec.wsPort);
  }
}

function draining(): NoCapacityError {
  return NoCapacityError.draining();
}

function shuttingDown(): NoCapacityError {
  return NoCapacityError.shuttingDown();
}
