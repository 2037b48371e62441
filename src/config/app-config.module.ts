import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import * as path from 'path';
import { AppConfig, parseAppConfig } from './app-config';
import { packageRoot } from './bundled-files';

@Global()
@Module({})
export class AppConfigModule {
  /**
   * Reads `.env` next to package.json (if present, whatever the working directory) into the environment, then parses and validates the typed AppConfig once.
   * `overrides` lets tests run the production module graph with their own settings.
   */
  static forRoot(overrides: Record<string, string | undefined> = {}): DynamicModule {
    return {
      module: AppConfigModule,
      imports: [
        ConfigModule.forRoot({
          envFilePath: path.join(packageRoot(), '.env'),
          ignoreEnvFile: process.env.NODE_ENV === 'test',
        }),
      ],
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
