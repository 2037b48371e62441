import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';

/** The throttler behind SpawnRateLimitGuard; without SPAWN_RATE_LIMIT it lets everything through. */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        throttlers: [
          {
            // 'default': ThrottlerGuard then names the header plain Retry-After.
            name: 'default',
            limit: config.spawnRateLimit?.limit ?? 1,
            ttl: config.spawnRateLimit?.ttlMs ?? 1000,
          },
        ],
        skipIf: () => config.spawnRateLimit === undefined,
      }),
    }),
  ],
})
export class RateLimitModule {}
