import { DynamicModule, Global, Module, Provider } from '@nestjs/common';
import { FileSystem } from '../adapters/file-system.adapter';
import { AppConfig } from '../config/app-config';
import type { Env } from '../config/env-reader';
import { loadAppConfig } from './load-app-config';

@Global()
@Module({})
export class AppConfigModule {
  /**
   * The typed AppConfig: the one main.ts loaded and validated before creating the application, or (tests) one
   * loaded here from the process environment with `overrides` on top, with the same checks.
   */
  static forRoot(source: AppConfig | Env = {}): DynamicModule {
    const provider: Provider =
      source instanceof AppConfig
        ? { provide: AppConfig, useValue: source }
        : {
            provide: AppConfig,
            useFactory: (files: FileSystem) => loadAppConfig({ ...process.env, ...source }, files),
            inject: [FileSystem],
          };
    return { module: AppConfigModule, providers: [provider], exports: [AppConfig] };
  }
}
