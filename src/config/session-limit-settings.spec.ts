import { ConfigError, parseAppConfig } from './app-config';
import { idleTimeoutNotice } from './session-limit-settings';

function problemOf(env: Record<string, string>): string {
  try {
    parseAppConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toHaveLength(1);
    return (error as ConfigError).problems[0];
  }
  throw new Error('expected a ConfigError');
}

describe('session limit settings', () => {
  it('defaults: no idle timeout, no lifetime limit, a 60 s warning, no quota', () => {
    const config = parseAppConfig({});
    expect(config.idleTimeoutS).toBe(0);
    expect(config.maxSessionS).toBe(0);
    expect(config.endWarningS).toBe(60);
    expect(config.keyQuotas).toBeUndefined();
    expect(config.settings).toEqual(
      expect.arrayContaining([
        { name: 'SC_IDLE_TIMEOUT_S', value: '0', source: 'default' },
        { name: 'SC_END_WARNING_S', value: '60', source: 'default' },
      ]),
    );
  });

  it('reads seconds (fractions allowed, 0 off)', () => {
    const config = parseAppConfig({ SC_IDLE_TIMEOUT_S: '1.5', SC_MAX_SESSION_S: '3600', SC_END_WARNING_S: '0' });
    expect([config.idleTimeoutS, config.maxSessionS, config.endWarningS]).toEqual([1.5, 3600, 0]);
  });

  it.each(['SC_IDLE_TIMEOUT_S', 'SC_MAX_SESSION_S', 'SC_END_WARNING_S'])(
    '%s: a bad value names the setting',
    (name) => {
      expect(problemOf({ [name]: '-5' })).toBe(
        `${name} must be a number of seconds from 0 (off) to 31536000 (fractions allowed), got "-5"`,
      );
      expect(problemOf({ [name]: '10m' })).toContain(`${name} must be a number of seconds`);
    },
  );

  it('SC_KEY_MAX_SESSIONS: per key name, and * for every other caller', () => {
    const quotas = parseAppConfig({ SC_KEY_MAX_SESSIONS: 'alice=5, bob=20,*=2' }).keyQuotas!;
    expect([...quotas.perKey]).toEqual([
      ['alice', 5],
      ['bob', 20],
    ]);
    expect(quotas.others).toBe(2);
    expect(parseAppConfig({ SC_KEY_MAX_SESSIONS: 'alice=1' }).keyQuotas!.others).toBeUndefined();
  });

  it.each(['alice', 'alice=0', 'alice=x', 'al ice=2', 'a.b=2', '=3', 'alice=2,,bob=1'])(
    'SC_KEY_MAX_SESSIONS=%s is refused with the expected shape',
    (value) => {
      expect(problemOf({ SC_KEY_MAX_SESSIONS: value })).toMatch(
        /^SC_KEY_MAX_SESSIONS must be <key name>=<sessions> pairs separated by commas, such as alice=5,bob=20,\*=2/,
      );
    },
  );

  it('SC_KEY_MAX_SESSIONS naming a key twice is refused', () => {
    expect(problemOf({ SC_KEY_MAX_SESSIONS: 'alice=1,alice=2' })).toBe('SC_KEY_MAX_SESSIONS names alice twice');
    expect(problemOf({ SC_KEY_MAX_SESSIONS: '*=1,*=2' })).toBe('SC_KEY_MAX_SESSIONS names * twice');
  });

  it('an idle timeout with direct endpoints is announced as applying to relayed sessions only', () => {
    expect(idleTimeoutNotice(parseAppConfig({ SC_IDLE_TIMEOUT_S: '60' }))).toMatch(
      /^SC_IDLE_TIMEOUT_S=60 applies only to sessions the relay carries: set PUBLIC_ENDPOINT=proxy/,
    );
    expect(idleTimeoutNotice(parseAppConfig({ SC_IDLE_TIMEOUT_S: '60', PUBLIC_ENDPOINT: 'proxy' }))).toBeUndefined();
    expect(idleTimeoutNotice(parseAppConfig({}))).toBeUndefined();
  });
});
