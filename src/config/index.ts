/**
 * The door of src/config: the typed settings, their sections (each with the token a feature injects it by), the
 * parsers the start-up room runs, and the few helpers other rooms use. Other rooms import config from here only.
 */
export * from './app-config';
export type { TrustProxySetting } from './edge-settings';
export { isLoopbackHost } from './edge-settings';
export type { Env } from './env-reader';
export { evaluateHoopsConfig } from './hoops-config-file';
export { hoopsConfigToEnv } from './hoops-config.mapper';
export { idleTimeoutNotice, type KeyQuotas } from './session-limit-settings';
export {
  ephemeralOverlapWarning,
  parsePortRange,
  settingsObject,
  settingsTable,
  tlsHostnameWarning,
  unknownSettingWarnings,
} from './setting-advice';
export type { CpuPriorityChoice } from './setting-parsers';
export { pickSection, type SettingsOf, type SettingsSection } from './settings-section';
export * from './sections/settings-sections';
