import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerException, ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import type { Request } from 'express';

/**
 * SPAWN_RATE_LIMIT on the spawn routes: one budget per client address across all of them. The address is the
 * socket's, or with TRUST_PROXY the one the proxy in front appended to X-Forwarded-For (Express `trust proxy`).
 * Answers 429 with Retry-After in seconds (set by ThrottlerGuard), rendered by the route's exception filter.
 */
@Injectable()
export class SpawnRateLimitGuard extends ThrottlerGuard {
  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    const request = req as unknown as Request;
    return Promise.resolve(request.ip ?? request.socket.remoteAddress ?? 'unknown');
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, name: string): string {
    return `${name}:${tracker}`;
  }

  protected override throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const seconds = Math.max(1, Math.round(detail.ttl / 1000));
    throw new ThrottlerException(
      `too many spawn requests from this address: at most ${detail.limit} per ${seconds} s (SPAWN_RATE_LIMIT); retry after ${detail.timeToBlockExpire} s`,
    );
  }
}
