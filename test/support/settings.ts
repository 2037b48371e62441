import { readAppConfig } from '../../src/config/app-config';

/**
 * Every environment variable the service reads as a setting, from the configuration itself: the names its
 * readers ask for (whether set or not), plus NODE_ENV, which the runtime reads.
 */
export function serviceSettingNames(): ReadonlySet<string> {
  const { config } = readAppConfig({}, {}, 'settings-node');
  return new Set([...config.settings.map((setting) => setting.name), 'NODE_ENV']);
}
