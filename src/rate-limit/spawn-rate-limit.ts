import { Inject, Injectable } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { ACCESS_SETTINGS, type AccessSettings } from '../config';
import { clientBucket } from '../auth';

/** The throttler's name: ThrottlerGuard then names the header plain Retry-After, and keys read `default:<address>`. */
export const SPAWN_THROTTLER = 'default';

/**
 * The storage key of one client's spawn budget, shared by the HTTP guard and the WebSocket upgrades: per IPv4
 * address, per IPv6 /64 (clientBucket).
 */
export const spawnBudgetKey = (clientAddress: string): string => `${SPAWN_THROTTLER}:${clientBucket(clientAddress)}`;

/** A spawn request refused by SPAWN_RATE_LIMIT. */
export interface RateLimitRefusal {
  retryAfterS: number;
  message: string;
}

export function rateLimitMessage(limit: number, ttlMs: number, retryAfterS: number): string {
  const seconds = Math.max(1, Math.round(ttlMs / 1000));
  return `too many spawn requests from this address (or its IPv6 /64): at most ${limit} per ${seconds} s (SPAWN_RATE_LIMIT); retry after ${retryAfterS} s`;
}

/**
 * SPAWN_RATE_LIMIT for requests that do not pass through Nest's guards (spawn-on-connect upgrades): counted in
 * the throttler's own storage under the same key as SpawnRateLimitGuard, so HTTP and upgrades share one budget.
 */
@Injectable()
export class SpawnRateLimit {
  constructor(
    @Inject(ThrottlerStorage) private readonly storage: ThrottlerStorage,
    @Inject(ACCESS_SETTINGS.token) private readonly access: AccessSettings,
  ) {}

  /** Counts one spawn request from `clientAddress`; a refusal once the budget is spent. */
  async hit(clientAddress: string): Promise<RateLimitRefusal | undefined> {
    const rule = this.access.spawnRateLimit;
    if (!rule) return undefined;
    const record = await this.storage.increment(
      spawnBudgetKey(clientAddress),
      rule.ttlMs,
      rule.limit,
      rule.ttlMs,
      SPAWN_THROTTLER,
    );
    if (!record.isBlocked) return undefined;
    const retryAfterS = Math.max(1, record.timeToBlockExpire);
    return { retryAfterS, message: rateLimitMessage(rule.limit, rule.ttlMs, retryAfterS) };
  }
}
