import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { AdaptersModule } from './adapters/adapters.module';
import { AppConfig } from './config';
import { AgentCheckModule } from './agent/agent-check.module';
import { AuthModule } from './auth/auth.module';
import { ClusterModule } from './cluster/cluster.module';
import { AppConfigModule } from './startup/app-config.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { DrainModule } from './drain/drain.module';
import { EventsModule } from './events/events.module';
import { HealthModule } from './health/health.module';
import { HistoryModule } from './history/history.module';
import { HoopsModule } from './hoops/hoops.module';
import { HttpErrorFilter } from './http/http-error.filter';
import { RequestBodyInterceptor } from './http/request-body';
import { LoggingModule } from './logging/logging.module';
import { LivelinessModule } from './liveliness/liveliness.module';
import { MetricsModule } from './metrics/metrics.module';
import { ProxyModule } from './proxy/proxy.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { SpawnModule } from './spawn/spawn.module';
import { TicketsModule } from './tickets/tickets.module';

@Module({})
export class AppModule {
  /**
   * `config`: the configuration main.ts loaded; or (tests) settings that override the process environment, to
   * run the production module graph with them.
   */
  static forRoot(config: AppConfig | Record<string, string | undefined> = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        AdaptersModule,
        AuthModule,
        LoggingModule,
        RateLimitModule,
        ScheduleModule.forRoot(),
        SpawnModule,
        TicketsModule,
        LivelinessModule,
        HealthModule,
        HoopsModule,
        EventsModule,
        DashboardModule,
        ProxyModule,
        AgentCheckModule,
        DrainModule,
        MetricsModule,
        HistoryModule,
        ClusterModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        // After every guard: a request refused there (no key, rate-limited) never has its body read.
        { provide: APP_INTERCEPTOR, useClass: RequestBodyInterceptor },
      ],
    };
  }
}
