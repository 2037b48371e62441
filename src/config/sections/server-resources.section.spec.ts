import { ConfigError, parseAppConfig } from '../app-config';

function problemOf(env: Record<string, string>): string {
  try {
    parseAppConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toHaveLength(1);
    return (error as ConfigError).problems[0];
  }
  throw new Error('no ConfigError');
}

describe('SC_CPU_PRIORITY, SC_SERVER_CPU_MAX, SC_SERVER_MEMORY_MAX', () => {
  it('defaults: auto, no limits', () => {
    const config = parseAppConfig({});
    expect(config).toMatchObject({ cpuPriority: 'auto', serverCpuMax: undefined, serverMemoryMax: undefined });
  });

  it('reads a mechanism, cores and a size with a unit', () => {
    const config = parseAppConfig({ SC_CPU_PRIORITY: 'Nice', SC_SERVER_CPU_MAX: '1.5', SC_SERVER_MEMORY_MAX: '2G' });
    expect(config).toMatchObject({ cpuPriority: 'nice', serverCpuMax: 1.5, serverMemoryMax: 2 * 1024 ** 3 });
    expect(parseAppConfig({ SC_SERVER_MEMORY_MAX: '512MiB' }).serverMemoryMax).toBe(512 * 1024 ** 2);
    expect(parseAppConfig({ SC_SERVER_MEMORY_MAX: '104857600' }).serverMemoryMax).toBe(104857600);
  });

  it('bad values name the setting and what is allowed', () => {
    expect(problemOf({ SC_CPU_PRIORITY: 'fast' })).toBe(
      'SC_CPU_PRIORITY must be one of auto, cgroup-v2, cgroup-v1, autogroup, nice, none, got "fast"',
    );
    for (const cores of ['0', '-1', 'two', '1,5', '2000']) {
      expect(problemOf({ SC_SERVER_CPU_MAX: cores })).toBe(
        `SC_SERVER_CPU_MAX must be a number of cores from 0.01 to 1024 (e.g. 1.5), got ${JSON.stringify(cores)}`,
      );
    }
    for (const size of ['2X', '1M', 'lots', '-2G']) {
      expect(problemOf({ SC_SERVER_MEMORY_MAX: size })).toBe(
        `SC_SERVER_MEMORY_MAX must be a size of at least 16M (bytes, or with K, M, G or T, e.g. 2G), got ${JSON.stringify(size)}`,
      );
    }
  });
});
