import type { Logger } from '@nestjs/common';
import type { Duplex } from 'stream';
import { RefusalLog } from '../logging';
import type { RejectionReason, SpawnerMetrics } from '../metrics';
import { refuseUpgrade } from '../http';

/** A spawn on connect refused before the upgrade: the HTTP answer, and how it is counted and logged. */
export interface ConnectRefusal {
  status: number;
  message: string;
  headers: Record<string, string>;
  /** Its reason in sc_spawner_spawn_rejections_total; none: not counted there (as POST /spawn's 401 or 403). */
  reason?: RejectionReason;
  /** A full node's refusal (slots, ports, draining, shutting down): one of a storm's, logged once per this key. */
  stormKey?: string;
}

/**
 * Spawn on connect's refusals, as POST /spawn's: each counted in sc_spawner_spawn_rejections_total (with its
 * reason), and a storm of a full node's refusals written as one line per reason every REFUSAL_LOG_WINDOW_MS, the
 * next one saying how many were left out (those are debug lines: at LOG_LEVEL=debug every refusal has one).
 * Other refusals (a bad ticket, a foreign origin, a rate limit) are written one by one.
 */
export class ConnectRefusals {
  private readonly storms = new RefusalLog();

  constructor(
    private readonly metrics: Pick<SpawnerMetrics, 'rejected'>,
    private readonly logger: Pick<Logger, 'log' | 'debug'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts and logs `refusal`, and answers the upgrade with it (a viewer already gone gets nothing). */
  answer(socket: Duplex, refusal: ConnectRefusal): void {
    this.refused(refusal);
    if (!socket.destroyed) refuseUpgrade(socket, refusal.status, refusal.message, refusal.headers);
  }

  refused(refusal: Pick<ConnectRefusal, 'status' | 'message' | 'reason' | 'stormKey'>): void {
    if (refusal.reason) this.metrics.rejected(refusal.reason);
    const line = `spawn on connect refused with ${refusal.status}: ${refusal.message}`;
    if (refusal.stormKey === undefined) return this.logger.log(line);
    const decision = this.storms.decide(refusal.stormKey, this.now());
    if (!decision.write) return this.logger.debug(line);
    const leftOut = decision.notWritten
      ? ` (and ${decision.notWritten} more spawns on connect refused for ${refusal.stormKey} since ` +
        `${new Date(decision.since!).toISOString()}, not logged)`
      : '';
    this.logger.log(line + leftOut);
  }
}
