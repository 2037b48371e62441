/** The spawn rate limit: its bucket and guard. */
export { RateLimitModule } from './rate-limit.module';
export { SpawnRateLimit } from './spawn-rate-limit';
export { SpawnRateLimitGuard } from './spawn-rate-limit.guard';
