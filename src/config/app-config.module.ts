import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import * as os from 'os';
import * as path from 'path';
import { FileSystem } from '../adapters/file-system.adapter';
import { AppConfig } from './app-config';
import { packageRoot } from './bundled-files';
import { loadAppConfig } from './load-app-config';

@Global()
@Module({})
export class AppConfigModule {
  /**
   * Reads `.env` next to package.json (if present, whatever the working directory) into the environment, then the
   * HOOPS Server configuration file named by HOOPS_CONFIG (under the environment), then parses and validates the typed AppConfig once.
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
          useFactory: (files: FileSystem) => loadAppConfig({ ...process.env, ...overrides }, files, os.homedir()),
          inject: [FileSystem],
        },
      ],
      exports: [AppConfig],
    };
  }
}
