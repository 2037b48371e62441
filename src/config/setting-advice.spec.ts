import {
  editDistance,
  ephemeralOverlapWarning,
  nearestName,
  parsePortRange,
  settingsObject,
  settingsTable,
  tlsHostnameWarning,
  unknownSettingWarnings,
} from './setting-advice';
import { readAppConfig } from './app-config';

describe('setting advice', () => {
  const known = readAppConfig({}, {}, 'host-a').config.settingNames;

  it('measures edit distance and finds the nearest known name', () => {
    expect(editDistance('SC_MAX_SPAWN', 'SC_MAX_SPAWNS')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(nearestName('SC_MAX_SPAWN', known)).toBe('SC_MAX_SPAWNS');
    expect(nearestName('SC_PORTBASE', known)).toBe('SC_PORT_BASE');
    expect(nearestName('SC_SOMETHING_ELSE_ENTIRELY', known)).toBeUndefined();
  });

  it('warns about unknown SC_*, HOOPS_*, API_* variables with the nearest name, and only about those', () => {
    const env = {
      SC_MAX_SPAWN: '3',
      HOOPS_CONFG: '/x',
      API_KEY: 'k',
      SC_COMPLETELY_UNRELATED_NAME: '1',
      SC_MAX_SPAWNS: '3',
      PATH: '/bin',
      SCSIM_FAULT: 'never-ready',
      SC_VENDOR_FLAG: '1',
    };
    expect(unknownSettingWarnings(env, known, ['SC_VENDOR_*'])).toEqual([
      'API_KEY is not a setting of sc-spawner and is ignored: did you mean API_KEYS?',
      'HOOPS_CONFG is not a setting of sc-spawner and is ignored: did you mean HOOPS_CONFIG?',
      'SC_COMPLETELY_UNRELATED_NAME is not a setting of sc-spawner and is ignored',
      'SC_MAX_SPAWN is not a setting of sc-spawner and is ignored: did you mean SC_MAX_SPAWNS?',
    ]);
  });

  it('warns when the WebSocket ports overlap the ephemeral range, and not when they do not', () => {
    const range = parsePortRange('32768\t60999\n');
    expect(range).toEqual({ low: 32768, high: 60999 });
    expect(parsePortRange('garbage')).toBeUndefined();
    expect(ephemeralOverlapWarning({ portBase: 11000, portCount: 64 }, range)).toBeUndefined();
    expect(ephemeralOverlapWarning({ portBase: 61000, portCount: 64 }, range)).toBeUndefined();
    expect(ephemeralOverlapWarning({ portBase: 40000, portCount: 64 }, range)).toMatch(
      /^SC_PORT_BASE\.\.\+SC_PORT_COUNT \(40000-40063\) overlaps this machine's ephemeral port range 32768-60999/,
    );
    // The last port alone inside the range is an overlap too.
    expect(ephemeralOverlapWarning({ portBase: 32700, portCount: 69 }, range)).toBeDefined();
    expect(ephemeralOverlapWarning({ portBase: 40000, portCount: 64 }, undefined)).toBeUndefined();
  });

  it('reports every setting once with its value (defaults included) and source', () => {
    const { config } = readAppConfig({ PORT: '12000', SC_MAX_SPAWNS: '4' }, {}, 'host-a');
    const settings = settingsObject(config.settings);
    expect(settings.PORT).toEqual({ value: '12000', source: 'env' });
    expect(settings.SC_MAX_SPAWNS).toEqual({ value: '4', source: 'env' });
    expect(settings.SC_PORT_COUNT).toEqual({ value: '8', source: 'default' });
    for (const name of ['HOST', 'BODY_LIMIT', 'NODE_NAME', 'SC_STATE_DIR'])
      expect(settings[name]).toEqual({ value: expect.any(String), source: 'default' });
    expect(settings.HOST.value).toBe('0.0.0.0');
    expect(settings.BODY_LIMIT.value).toBe('64kb');
    expect(settings.NODE_NAME.value).toBe('host-a');
    expect(new Set(config.settings.map((s) => s.name)).size).toBe(config.settings.length);

    const table = settingsTable(config.settings).split('\n');
    expect(table).toHaveLength(config.settings.length);
    const valueColumn = table.map((line) => line.indexOf(line.trim().split(/\s+/)[1], 2));
    expect(new Set(valueColumn.filter((_, i) => config.settings[i].value !== undefined)).size).toBe(1);
    expect(table.find((line) => line.trim().startsWith('PORT '))).toMatch(/^ {2}PORT +12000 +env$/);
  });

  it('reports the secrets as *** (the license key, the API keys, the cluster key), never their values', () => {
    const env = { SC_LICENSE: 'LIC-0123456789', API_KEYS: 'k3y-0123456789abcdef', CLUSTER_KEY: 'c1uster-0123456789ab' };
    const settings = settingsObject(readAppConfig(env, {}, 'host-a').config.settings);
    for (const name of Object.keys(env)) expect(settings[name]).toEqual({ value: '***', source: 'env' });
  });

  it('warns when the servers serve wss:// without PUBLIC_HOSTNAME (the HOOPS Server requires publicHostname)', () => {
    expect(tlsHostnameWarning({ serversUseTls: true, publicHostname: undefined })).toMatch(
      /^the servers serve wss:\/\/ but PUBLIC_HOSTNAME \(publicHostname in Config.js\) is not set/,
    );
    expect(tlsHostnameWarning({ serversUseTls: true, publicHostname: 'viewer.example.com' })).toBeUndefined();
    expect(tlsHostnameWarning({ serversUseTls: false, publicHostname: undefined })).toBeUndefined();
  });
});
