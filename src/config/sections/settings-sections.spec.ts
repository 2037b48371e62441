import { readAppConfig } from '../app-config';
import { pickSection } from '../settings-section';
import { EDGE_SETTINGS, SETTINGS_SECTIONS } from './settings-sections';

/** What the configuration holds besides its sections: the start-up settings report, the HOOPS file and .env read. */
const REPORT_FIELDS = ['settings', 'hoopsConfigFile', 'hoopsConfigWarnings', 'dotEnvFile', 'dotEnvSecrets'];

describe('settings sections', () => {
  it('each setting field of the configuration belongs to exactly one section', () => {
    const { config } = readAppConfig({}, {}, 'node');
    const owners = SETTINGS_SECTIONS.flatMap((section) => section.keys as string[]);
    const fields = Object.keys(config).filter((field) => !REPORT_FIELDS.includes(field));
    expect([...owners].sort()).toEqual([...new Set(fields)].sort());
    expect(new Set(owners).size).toBe(owners.length);
  });

  it('a section picked from the configuration holds its fields only, frozen', () => {
    const { config } = readAppConfig({ HEADERS_TIMEOUT_S: '7' }, {}, 'node');
    const edge = pickSection(config, EDGE_SETTINGS);
    expect(Object.keys(edge).sort()).toEqual([...EDGE_SETTINGS.keys].sort());
    expect(edge.headersTimeoutS).toBe(7);
    expect(Object.isFrozen(edge)).toBe(true);
  });
});
