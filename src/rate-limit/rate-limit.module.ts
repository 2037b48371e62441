import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { ACCESS_SETTINGS, type AccessSettings } from '../config';
import { SPAWN_THROTTLER, SpawnRateLimit } from './spawn-rate-limit';

/** The throttler behind SpawnRateLimitGuard and SpawnRateLimit; without SPAWN_RATE_LIMIT it lets everything through. */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [ACCESS_SETTINGS.token],
      useFactory: (config: AccessSettings) => ({
        throttlers: [
          {
            name: SPAWN_THROTTLER,
            limit: config.spawnRateLimit?.limit ?? 1,
            ttl: config.spawnRateLimit?.ttlMs ?? 1000,
          },
        ],
        skipIf: () => config.spawnRateLimit === undefined,
      }),
    }),
  ],
  providers: [SpawnRateLimit],
  exports: [SpawnRateLimit],
})
export class RateLimitModule {}
