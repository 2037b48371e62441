import { FileSystem } from '../adapters/file-system.adapter';
import { ACCESS_SETTINGS, CLUSTER_SETTINGS, ConfigError, parseAppConfig, pickSection } from '../config';
import { ApiKeys, parseApiKeysFile } from './api-keys';
import { presentedKey } from './api-key.guard';
import { loadApiKeys } from './auth.module';
import { needsKey } from './route-access';
import type { Request } from 'express';

const KEY = 'k3y-0123456789abcdef';
const OTHER = 'another-key-0123456789';

class FakeFiles extends FileSystem {
  constructor(private readonly files: Record<string, string>) {
    super();
  }
  override readText(file: string): string {
    if (!(file in this.files)) throw new Error('ENOENT: no such file');
    return this.files[file];
  }
  override readTrustedText(file: string): string {
    return this.readText(file);
  }
  override realpath(file: string): Promise<string> {
    return Promise.resolve(file);
  }
  override isExecutableFile(): boolean {
    return false;
  }
  override executableProblem(): string | undefined {
    return 'does not exist';
  }
  override untrustedCodeProblem(): string | undefined {
    return undefined;
  }
  override untrustedFolderProblem(): string | undefined {
    return undefined;
  }
  override modeOf(): number {
    return 0o600;
  }
}

describe('ApiKeys', () => {
  it('matches exactly the configured keys', () => {
    const keys = new ApiKeys([KEY, 'another-key-0123456789']);
    expect(keys.enabled).toBe(true);
    expect(keys.matches(KEY)).toBe(true);
    expect(keys.matches('another-key-0123456789')).toBe(true);
    for (const wrong of [undefined, '', KEY.slice(0, -1), `${KEY}x`, KEY.toUpperCase()]) {
      expect(keys.matches(wrong)).toBe(false);
    }
  });

  it('without keys nothing matches and access is not enforced', () => {
    const keys = new ApiKeys([]);
    expect(keys.enabled).toBe(false);
    expect(keys.matches('')).toBe(false);
  });

  it('masks keys in text', () => {
    expect(new ApiKeys([KEY]).redact(`Authorization: Bearer ${KEY} and ${KEY}`)).toBe(
      'Authorization: Bearer *** and ***',
    );
  });
});

describe('parseApiKeysFile', () => {
  it('one key a line; blank lines and # comments ignored; spaces trimmed', () => {
    expect(parseApiKeysFile(`# team\n\n  ${KEY}  \r\nsecond-key-0123456789\n#old-key\n`)).toEqual([
      KEY,
      'second-key-0123456789',
    ]);
  });
});

/** The two sections loadApiKeys reads: the keys (access) and the cluster key. */
function keySettings(env: Record<string, string>) {
  const config = parseAppConfig(env);
  return [pickSection(config, ACCESS_SETTINGS), pickSection(config, CLUSTER_SETTINGS)] as const;
}

describe('loadApiKeys', () => {
  it('reads API_KEYS_FILE through the FileSystem adapter', () => {
    const [access, cluster] = keySettings({ API_KEYS_FILE: '/keys' });
    expect(loadApiKeys(access, cluster, new FakeFiles({ '/keys': `${KEY}\n` })).matches(KEY)).toBe(true);
  });

  it('accepts CLUSTER_KEY as it is written, as its peers send it, even shaped like name=key', () => {
    const clusterKey = 'fleet=0123456789abcdefgh';
    const [access, cluster] = keySettings({ API_KEYS: KEY, CLUSTER_KEY: clusterKey });
    const keys = loadApiKeys(access, cluster, new FakeFiles({}));
    expect(keys.matches(clusterKey)).toBe(true);
    expect(keys.matches('0123456789abcdefgh')).toBe(false);
    expect(keys.nameOf(clusterKey)).toBe('key-2');
    expect(keys.first).toBe(KEY);
  });

  it('a CLUSTER_KEY equal to a named key leaves that key its name (and so its quota)', () => {
    const [access, cluster] = keySettings({ API_KEYS: `alice=${KEY},${OTHER}`, CLUSTER_KEY: KEY });
    const keys = loadApiKeys(access, cluster, new FakeFiles({}));
    expect(keys.nameOf(KEY)).toBe('alice');
    expect(keys.nameOf(OTHER)).toBe('key-1');
  });

  it.each([
    ['an unreadable file', {}, /cannot be read: ENOENT/],
    ['a file with no key', { '/keys': '# nothing\n\n' }, /holds no key/],
    ['a short key', { '/keys': 'short\n' }, /key 1 is too short/],
    ['a key no client could send (not ASCII)', { '/keys': 'clé-0123456789abcdef\n' }, /other than printable ASCII/],
  ])('%s stops the service with a ConfigError', (_name, files, message) => {
    const [access, cluster] = keySettings({ API_KEYS_FILE: '/keys' });
    expect(() => loadApiKeys(access, cluster, new FakeFiles(files))).toThrow(ConfigError);
    expect(() => loadApiKeys(access, cluster, new FakeFiles(files))).toThrow(message);
  });
});

describe('needsKey', () => {
  const settings = { spawnAuthRequired: false, metricsPublic: false };
  it('protected unless marked', () => {
    expect(needsKey(undefined, settings)).toBe(true);
    expect(needsKey('protected', settings)).toBe(true);
    expect(needsKey('public', { spawnAuthRequired: true, metricsPublic: false })).toBe(false);
  });
  it('spawn routes follow SPAWN_AUTH, metrics follow METRICS_PUBLIC', () => {
    expect(needsKey('spawn', settings)).toBe(false);
    expect(needsKey('spawn', { ...settings, spawnAuthRequired: true })).toBe(true);
    expect(needsKey('metrics', settings)).toBe(true);
    expect(needsKey('metrics', { ...settings, metricsPublic: true })).toBe(false);
  });
});

describe('presentedKey', () => {
  const request = (headers: Record<string, string>, query: Record<string, string> = {}) =>
    ({ headers, query }) as unknown as Request;
  it('Bearer in Authorization (scheme in any case); access_token only where allowed', () => {
    expect(presentedKey(request({ authorization: `Bearer ${KEY}` }), false)).toBe(KEY);
    expect(presentedKey(request({ authorization: `bearer  ${KEY}` }), false)).toBe(KEY);
    expect(presentedKey(request({ authorization: `Basic ${KEY}` }), true)).toBeUndefined();
    expect(presentedKey(request({}, { access_token: KEY }), false)).toBeUndefined();
    expect(presentedKey(request({}, { access_token: KEY }), true)).toBe(KEY);
  });
});
