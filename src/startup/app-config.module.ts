import { DynamicModule, Global, Module, Provider } from '@nestjs/common';
import { FileSystem } from '../adapters';
import { AppConfig, type Env, pickSection, SETTINGS_SECTIONS } from '../config';
import { loadAppConfig } from './load-app-config';

/** Each section of the settings under its own token, picked from the loaded AppConfig: a feature injects its own. */
const SECTION_PROVIDERS: Provider[] = SETTINGS_SECTIONS.map((section) => ({
  provide: section.token,
  useFactory: (config: AppConfig) => pickSection(config, section),
  inject: [AppConfig],
}));

@Global()
@Module({})
export class AppConfigModule {
  /**
   * The typed AppConfig and its sections: the one main.ts loaded and validated before creating the application,
   * or (tests) one loaded here from the process environment with `overrides` on top, with the same checks.
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
    const tokens = SETTINGS_SECTIONS.map((section) => section.token);
    return { module: AppConfigModule, providers: [provider, ...SECTION_PROVIDERS], exports: [AppConfig, ...tokens] };
  }
}
