import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../../adapters';
import { SESSION_LIMITS_SETTINGS, type SessionLimitsSettings } from '../../config';
import { effectiveLifetimeS } from '../rules/session-limit-policy';
import { keyLabel, overQuota, quotaFor } from '../rules/session-quota';
import type { SessionOwner } from '../rules/spawn-record';
import { SpawnRegistry } from './spawn-registry';
import { QuotaExceededError } from '../rules/supervisor.errors';

/** Retry-After for a caller at its quota when none of its sessions has a lifetime limit. */
export const RETRY_AFTER_QUOTA_S = 60;

/** SC_KEY_MAX_SESSIONS: counts each caller's live and starting sessions and refuses one more beyond its cap. */
@Injectable()
export class SessionQuotas {
  private readonly starting = new Map<string, number>();
  private readonly rejections = new Map<string, number>();

  constructor(
    @Inject(SESSION_LIMITS_SETTINGS.token) private readonly limits: SessionLimitsSettings,
    private readonly registry: SpawnRegistry,
    private readonly clock: Clock,
  ) {}

  /** Runs `start` for the caller unless it is at its cap (QuotaExceededError); its start counts meanwhile. */
  async admit<T>(owner: SessionOwner | undefined, start: () => Promise<T>): Promise<T> {
    if (!owner || !this.limits.keyQuotas) return start();
    const limit = overQuota(this.limits.keyQuotas, owner, this.held(owner.bucket));
    if (limit !== undefined) {
      const label = keyLabel(owner);
      this.rejections.set(label, (this.rejections.get(label) ?? 0) + 1);
      throw new QuotaExceededError(label, limit, this.retryAfterS(owner.bucket));
    }
    this.starting.set(owner.bucket, (this.starting.get(owner.bucket) ?? 0) + 1);
    try {
      return await start();
    } finally {
      const left = this.starting.get(owner.bucket)! - 1;
      if (left === 0) this.starting.delete(owner.bucket);
      else this.starting.set(owner.bucket, left);
    }
  }

  /** The caller's cap (undefined: none) and, when it is at it, the refusal a spawn would get now (not counted). */
  standing(owner: SessionOwner): { limit?: number; exceeded?: QuotaExceededError } {
    const limit = quotaFor(this.limits.keyQuotas, owner);
    if (limit === undefined || this.held(owner.bucket) < limit) return { limit };
    return { limit, exceeded: new QuotaExceededError(keyLabel(owner), limit, this.retryAfterS(owner.bucket)) };
  }

  /** The refusal a spawn by the caller gets now (counted as a refusal), or undefined when it is within its cap. */
  refusal(owner: SessionOwner): QuotaExceededError | undefined {
    const { exceeded } = this.standing(owner);
    if (exceeded) this.rejections.set(keyLabel(owner), (this.rejections.get(keyLabel(owner)) ?? 0) + 1);
    return exceeded;
  }

  /** Quota refusals so far, by key name (`anonymous` for callers without a key). */
  rejectionCounts(): ReadonlyMap<string, number> {
    return this.rejections;
  }

  private owned(bucket: string) {
    return this.registry
      .liveEntries()
      .filter(({ record }) => record.owner?.bucket === bucket && !record.stopRequestedAt);
  }

  private held(bucket: string): number {
    return this.owned(bucket).length + (this.starting.get(bucket) ?? 0);
  }

  /** Until the first of its sessions reaches its lifetime limit, when one has; else RETRY_AFTER_QUOTA_S. */
  private retryAfterS(bucket: string): number {
    const now = this.clock.now();
    const ends = this.owned(bucket)
      .map(({ record }) => {
        const limitS = effectiveLifetimeS(this.limits.maxSessionS, record.maxSessionS);
        return limitS > 0 ? record.sessionStartedAt + limitS * 1000 - now : Infinity;
      })
      .filter(Number.isFinite);
    if (ends.length === 0) return RETRY_AFTER_QUOTA_S;
    return Math.max(1, Math.ceil(Math.min(...ends) / 1000));
  }
}
