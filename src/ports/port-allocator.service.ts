import { Inject, Injectable, Logger } from '@nestjs/common';
import { CAPACITY_SETTINGS, type CapacitySettings } from '../config';
import { Clock, PortProbe, PortProbeError } from '../adapters';
import { portRanges } from './port-shortage';

/** How long a port is trusted as last probed (held by another program, or free) before it is probed again. */
export const BUSY_PORT_RETRY_MS = 10_000;

const HELD = `held by another program; probing again every ${BUSY_PORT_RETRY_MS / 1000} s`;
const FREED = 'no longer held by another program';

/** How many ports refresh() binds at once: a whole range of thousands at once could run out of file descriptors. */
const PROBES_AT_ONCE = 32;

export interface PortCounts {
  total: number;
  leased: number;
  /** Neither leased nor held by another program when last probed: could be leased now. */
  free: number;
  /** Held by another program when last probed; not free until a probe finds it free again. */
  busy: number;
  /** Why the last probe could not tell whether its port is free (the service out of file descriptors), until one can. */
  probeFailure?: string;
}

/**
 * Leases WebSocket ports from [SC_PORT_BASE, SC_PORT_BASE + SC_PORT_COUNT).
 * A port is marked leased synchronously before it is probed, so concurrent leases can never pick the same one.
 * Ports are handed out round-robin so a just-released port (maybe in TIME_WAIT) is the last to be reused.
 * A port held by another program stays busy until a probe finds it free: a mark that merely expired would count a
 * range squatted since as free, and readiness would send viewers to a node that can serve none.
 */
@Injectable()
export class PortAllocator {
  private readonly logger = new Logger(PortAllocator.name);
  private readonly leased = new Set<number>();
  /** Ports found held by another program, and when each may be probed again. */
  private readonly busyUntil = new Map<number, number>();
  private readonly foundFreeAt = new Map<number, number>();
  /** One probe per port at a time: two binds of the same port by this process would fail each other. */
  private readonly probing = new Map<number, Promise<boolean | undefined>>();
  private refreshing?: Promise<void>;
  /** A refresh() pass has finished: counts() has seen every port of the range at least once. */
  private passed = false;
  /** While refresh() probes: the ports it found newly held or let go, logged as one line each when it is done. */
  private changes?: { held: number[]; freed: number[] };
  private cursor = 0;
  private probeFailure?: string;

  constructor(
    @Inject(CAPACITY_SETTINGS.token) private readonly capacity: CapacitySettings,
    private readonly probe: PortProbe,
    private readonly clock: Clock,
  ) {}

  /** Resolves with a port no live spawn holds and nothing else has bound, or null when none is left. */
  async lease(): Promise<number | null> {
    const { portBase, portCount } = this.capacity;
    // Walk the ring from where this call started: this.cursor moves as ports are leased (here and by concurrent calls).
    const start = this.cursor;
    for (let tried = 0; tried < portCount; tried++) {
      const port = portBase + ((start + tried) % portCount);
      if (this.leased.has(port) || this.isHeldNow(port)) continue;
      this.leased.add(port);
      this.cursor = (port - portBase + 1) % portCount;
      if ((await this.probeOnce(port)) === true) return port;
      this.leased.delete(port);
    }
    return null;
  }

  /** Returns a port to the pool; call only once the process that held it has exited. */
  release(port: number): void {
    this.leased.delete(port);
  }

  /** Another program holds this port: keep it out of rotation, and out of the free count, until found free. */
  markBusy(port: number): void {
    if (!this.busyUntil.has(port)) {
      if (this.changes) this.changes.held.push(port);
      else this.logger.warn(`port ${port}: ${HELD}`);
    }
    this.foundFreeAt.delete(port);
    this.busyUntil.set(port, this.clock.now() + BUSY_PORT_RETRY_MS);
  }

  /** Probes a port that a server just failed to bind; true (and kept out of rotation) when another program holds it. */
  async confirmBusy(port: number): Promise<boolean> {
    if (this.leased.has(port)) return false;
    return (await this.probeOnce(port)) === false;
  }

  /**
   * Probes the ports not leased whose last probe is older than BUSY_PORT_RETRY_MS (or that were never probed), so
   * counts() tells what could be leased now: a range taken since is seen, a port let go is free again.
   * Concurrent calls share one pass.
   */
  refresh(): Promise<void> {
    this.refreshing ??= this.probeStale().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /**
   * Starts a refresh() for whoever reads counts() next, and resolves at once, unless no pass has finished yet (the
   * first readiness check sees a range taken before the node started). A health check must not wait for binds:
   * under a spawn storm each takes event-loop turns behind a thousand requests (its p99 went from 25 to 170 ms).
   */
  refreshForNext(): Promise<void> {
    const pass = this.refresh();
    return this.passed ? Promise.resolve() : pass;
  }

  counts(): PortCounts {
    let busy = 0;
    for (const port of this.busyUntil.keys()) if (!this.leased.has(port)) busy++;
    const total = this.capacity.portCount;
    const free = Math.max(0, total - this.leased.size - busy);
    return { total, leased: this.leased.size, busy, free, probeFailure: this.probeFailure };
  }

  private async probeStale(): Promise<void> {
    const { portBase, portCount } = this.capacity;
    const stale: number[] = [];
    for (let port = portBase; port < portBase + portCount; port++) if (this.isStale(port)) stale.push(port);
    // One line for what a pass found, not one per port: a user holding and letting go a whole range each time a
    // readiness probe (which needs no key) looked would write two lines per port of it.
    const changes = (this.changes = { held: [], freed: [] });
    try {
      for (let i = 0; i < stale.length; i += PROBES_AT_ONCE) {
        // Leased meanwhile: its lease probed it (or probes it with us); a server may be binding it now.
        const batch = stale.slice(i, i + PROBES_AT_ONCE).filter((port) => !this.leased.has(port));
        await Promise.all(batch.map((port) => this.probeOnce(port)));
      }
    } finally {
      this.passed = true;
      this.changes = undefined;
      const { held, freed } = changes;
      if (held.length > 0) this.logger.warn(`${held.length} port(s) ${portRanges(held)}: ${HELD}`);
      if (freed.length > 0) this.logger.log(`${freed.length} port(s) ${portRanges(freed)}: ${FREED}`);
    }
  }

  private isStale(port: number): boolean {
    if (this.leased.has(port) || this.isHeldNow(port)) return false;
    const freeAt = this.foundFreeAt.get(port);
    return freeAt === undefined || this.clock.now() - freeAt >= BUSY_PORT_RETRY_MS;
  }

  /**
   * Probes `port` (or joins the probe under way) and records what it found; undefined when the probe could not tell.
   * Such a port is not marked held: under EMFILE every probe failed, and the whole range was reported held by another
   * program (a warning per port, readiness and the 503s naming `ss -ltnp`) when nobody held any.
   */
  private probeOnce(port: number): Promise<boolean | undefined> {
    let probe = this.probing.get(port);
    if (!probe) {
      probe = this.probe.isFree(port).then(
        (free) => {
          this.probing.delete(port);
          this.probeFailure = undefined;
          if (free) this.foundFree(port);
          else this.markBusy(port);
          return free;
        },
        (error: unknown) => {
          this.probing.delete(port);
          if (!(error instanceof PortProbeError)) throw error;
          this.probeFailure = error.message;
          return undefined;
        },
      );
      this.probing.set(port, probe);
    }
    return probe;
  }

  private foundFree(port: number): void {
    if (this.busyUntil.delete(port)) {
      if (this.changes) this.changes.freed.push(port);
      else this.logger.log(`port ${port}: ${FREED}`);
    }
    this.foundFreeAt.set(port, this.clock.now());
  }

  /** Found held by another program within the last BUSY_PORT_RETRY_MS: not worth probing yet. */
  private isHeldNow(port: number): boolean {
    const until = this.busyUntil.get(port);
    return until !== undefined && this.clock.now() < until;
  }
}
