import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { CommonModule } from './common/common.module';
import { HttpErrorFilter } from './common/http-error.filter';
import { AppConfigModule } from './config/app-config.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { EventsModule } from './events/events.module';
import { HealthModule } from './health/health.module';
import { HoopsModule } from './hoops/hoops.module';
import { LivelinessModule } from './liveliness/liveliness.module';
import { ProxyModule } from './proxy/proxy.module';
import { SpawnModule } from './spawn/spawn.module';

@Module({})
export class AppModule {
  /** `env` overrides the process environment; tests use it to run the production module graph with their settings. */
  static forRoot(env: Record<string, string | undefined> = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(env),
        CommonModule,
        ScheduleModule.forRoot(),
        SpawnModule,
        LivelinessModule,
        HealthModule,
        HoopsModule,
        EventsModule,
        DashboardModule,
        ProxyModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: HttpErrorFilter }],
    };
  }
}
