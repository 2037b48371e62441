import type { AppConfig } from './app-config.model';

/**
 * One section of the settings: the AppConfig fields one reader fills, and the token a feature injects them by
 * (`@Inject(LISTENER_SETTINGS.token) listener: ListenerSettings`). The start-up module provides each section as
 * its own object, holding only those fields.
 */
export interface SettingsSection<K extends keyof AppConfig = keyof AppConfig> {
  readonly token: symbol;
  readonly keys: readonly K[];
}

/** The type of a section's settings: `SettingsOf<typeof LISTENER_SETTINGS>`. */
export type SettingsOf<S> = S extends SettingsSection<infer K> ? Pick<AppConfig, K> : never;

export function settingsSection<const K extends keyof AppConfig>(name: string, keys: readonly K[]): SettingsSection<K> {
  return { token: Symbol(name), keys };
}

/** The section's fields of a loaded configuration, as a frozen object of their own. */
export function pickSection<K extends keyof AppConfig>(
  config: AppConfig,
  section: SettingsSection<K>,
): Pick<AppConfig, K> {
  const picked = Object.fromEntries(section.keys.map((key) => [key, config[key]]));
  return Object.freeze(picked) as Pick<AppConfig, K>;
}
