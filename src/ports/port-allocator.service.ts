import { Inject, Injectable, Logger } from '@nestjs/common';
import { CAPACITY_SETTINGS, type CapacitySettings } from '../config';
import { Clock, PortProbe } from '../adapters';

/** How long a port another program held is left alone before it is tried again. */
export const BUSY_PORT_RETRY_MS = 10_000;

export interface PortCounts {
  total: number;
  leased: number;
  /** Neither leased nor known to be held by another program. */
  free: number;
  /** Held by another program when last probed; retried later. */
  busy: number;
}

/**
 * Leases WebSocket ports from [SC_PORT_BASE, SC_PORT_BASE + SC_PORT_COUNT).
 * A port is marked leased synchronously before it is probed, so concurrent leases can never pick the same one.
 * Ports are handed out round-robin so a just-released port (maybe in TIME_WAIT) is the last to be reused.
 */
@Injectable()
export class PortAllocator {
  private readonly logger = new Logger(PortAllocator.name);
  private readonly leased = new Set<number>();
  private readonly busyUntil = new Map<number, number>();
  private cursor = 0;

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
      if (this.leased.has(port) || this.isMarkedBusy(port)) continue;
      this.leased.add(port);
      this.cursor = (port - portBase + 1) % portCount;
      if (await this.probe.isFree(port)) return port;
      this.leased.delete(port);
      this.markBusy(port);
    }
    return null;
  }

  /** Returns a port to the pool; call only once the process that held it has exited. */
  release(port: number): void {
    this.leased.delete(port);
  }

  /** Another program holds this port: keep it out of rotation for a while. */
  markBusy(port: number): void {
    this.logger.warn(`port ${port} is held by another program; skipping it for ${BUSY_PORT_RETRY_MS / 1000} s`);
    this.busyUntil.set(port, this.clock.now() + BUSY_PORT_RETRY_MS);
  }

  /** Probes a port that a server just failed to bind; true (and kept out of rotation) when another program holds it. */
  async confirmBusy(port: number): Promise<boolean> {
    if (this.leased.has(port) || (await this.probe.isFree(port))) return false;
    this.markBusy(port);
    return true;
  }

  counts(): PortCounts {
    let busy = 0;
    for (const port of this.busyUntil.keys()) if (this.isMarkedBusy(port)) busy++;
    const total = this.capacity.portCount;
    return { total, leased: this.leased.size, busy, free: Math.max(0, total - this.leased.size - busy) };
  }

  private isMarkedBusy(port: number): boolean {
    const until = this.busyUntil.get(port);
    if (until === undefined) return false;
    if (this.clock.now() >= until) {
      this.busyUntil.delete(port);
      return false;
    }
    return true;
  }
}
