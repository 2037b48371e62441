import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { AdaptersModule } from './adapters';
import { AppConfig } from './config';
import { AgentCheckModule } from './agent';
import { AuthModule } from './auth';
import { ClusterModule } from './cluster';
import { AppConfigModule } from './startup';
import { DashboardModule } from './dashboard';
import { DrainModule } from './drain';
import { EventsModule } from './events';
import { HealthModule } from './health';
import { HistoryModule } from './history';
import { HoopsModule } from './hoops';
import { HttpErrorFilter, RequestBodyInterceptor } from './http';
import { LoggingModule } from './logging';
import { LivelinessModule } from './liveliness';
import { MetricsModule } from './metrics';
import { ProxyModule } from './proxy';
import { RateLimitModule } from './rate-limit';
import { SpawnModule } from './spawn';
import { TicketsModule } from './tickets';

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
