import { FakeFileSystem } from '../../test/fakes';
import { ConfigError, parseAppConfig } from './app-config';
import { loadAppConfig } from './load-app-config';

const EXE = '/opt/hoops/ts3d_sc_server';

function problemsOf(env: Record<string, string>, files: FakeFileSystem): string[] {
  try {
    loadAppConfig(env, files);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadAppConfig', () => {
  let files: FakeFileSystem;
  beforeEach(() => {
    files = new FakeFileSystem();
    files.executables.add(EXE).add('/usr/bin/nice');
  });

  it('a valid configuration on a machine that has the executable and nice', () => {
    const config = loadAppConfig({ SC_EXECUTABLE: EXE, SC_LICENSE: 'K' }, files);
    expect(config.scExecutable).toBe(EXE);
    expect(config.childNice).toBe(10);
  });

  it('refuses an executable this process cannot run, saying why', () => {
    files.executables.delete(EXE);
    expect(problemsOf({ SC_EXECUTABLE: EXE, SC_LICENSE: 'K' }, files)).toEqual([
      `SC_EXECUTABLE must be an executable file: ${EXE} does not exist`,
    ]);
    // parseAppConfig alone stays pure: it does not look at the machine.
    expect(parseAppConfig({ SC_EXECUTABLE: EXE, SC_LICENSE: 'K' }).scExecutable).toBe(EXE);
  });

  it('names the bundled simulator when SC_EXECUTABLE is not set', () => {
    expect(problemsOf({}, files)[0]).toMatch(
      /^the bundled simulator \(SC_EXECUTABLE is not set\) must be an executable file: .*ts3d_sc_server does not exist$/,
    );
  });

  it('SC_NICE above 0 needs nice; SC_NICE=0 does not', () => {
    files.executables.delete('/usr/bin/nice');
    expect(problemsOf({ SC_EXECUTABLE: EXE, SC_LICENSE: 'K' }, files)).toEqual([
      "SC_NICE=10 needs coreutils' nice (/usr/bin/nice or /bin/nice), which is missing: install coreutils, or set SC_NICE=0",
    ]);
    files.executables.add('/bin/nice');
    expect(loadAppConfig({ SC_EXECUTABLE: EXE, SC_LICENSE: 'K' }, files).childNice).toBe(10);
    files.executables.delete('/bin/nice');
    expect(loadAppConfig({ SC_EXECUTABLE: EXE, SC_LICENSE: 'K', SC_NICE: '0' }, files).childNice).toBe(0);
  });

  it('lists setting problems and host problems together', () => {
    files.executables.delete(EXE);
    const problems = problemsOf({ SC_EXECUTABLE: EXE, SC_LICENSE: 'K', SC_MAX_SPAWNS: 'x' }, files);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^SC_MAX_SPAWNS/);
    expect(problems[1]).toMatch(/^SC_EXECUTABLE/);
  });
});
