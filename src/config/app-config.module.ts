import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AppConfig, parseAppConfig } from './app-config';

@Global()
@Module({})
export class AppConfigModule {
  /**
   * Reads `.env` (if present) into the environment, then parses and validates the typed AppConfig once.
   * `overrides` lets tests run the production module graph with their own settings.
   */
  static forRoot(overrides: Record<string, string | undefined> = {}): DynamicModule {
    return {
      module: AppConfigModule,
      imports: [ConfigModule.forRoot({ ignoreEnvFile: process.env.NODE_ENV === 'test' })],
      providers: [
        {
          provide: AppConfig,
          useFactory: () => parseAppConfig({ ...process.env, ...overrides }),
        },
      ],
      exports: [AppConfig],
    };
  }
}
