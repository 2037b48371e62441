import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerException, ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { rateLimitMessage, spawnBudgetKey } from './spawn-rate-limit';

/**
 * SPAWN_RATE_LIMIT on the spawn routes: one budget per client address across all of them. The address is the
 * socket's, or from a trusted proxy (TRUST_PROXY) the one it appended to X-Forwarded-For (Express `trust proxy`,
 * req.ip). WebSocket upgrades count against the same budget through SpawnRateLimit.
 * Answers 429 with Retry-After in seconds (set by ThrottlerGuard), rendered by the route's exception filter.
 */
@Injectable()
export class SpawnRateLimitGuard extends ThrottlerGuard {
  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    const request = req as unknown as Request;
    return Promise.resolve(request.ip ?? request.socket.remoteAddress ?? 'unknown');
  }

  protected override generateKey(_context: ExecutionContext, tracker: string): string {
    return spawnBudgetKey(tracker);
  }

  protected override throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    // ThrottlerGuard sets X-RateLimit-* only on requests it lets through; a client told 429 gets them too.
    const response = context.switchToHttp().getResponse<Response>();
    response.setHeader('X-RateLimit-Limit', String(detail.limit));
    response.setHeader('X-RateLimit-Remaining', '0');
    response.setHeader('X-RateLimit-Reset', String(detail.timeToBlockExpire));
    throw new ThrottlerException(rateLimitMessage(detail.limit, detail.ttl, detail.timeToBlockExpire));
  }
}
