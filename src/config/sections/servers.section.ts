import * as path from 'path';
import { argvValueProblem, parseArgv } from '@app/sc-protocol';
import type { AppConfig } from '../app-config.model';
import { BUNDLED_SIMULATOR, SIMULATOR_DUMMY_LICENSE, SIMULATOR_SAMPLE_MODELS } from '../bundled-files';
import type { Env, EnvReader } from '../env-reader';
import { settingsSection, type SettingsOf } from '../settings-section';
import { defaultStateParent } from '../state-dir';
import { parseExtraArgs } from '../setting-parsers';
import type { ListenerSettings } from './listener.section';

/** The Stream Cache Server itself: executable, license, model folders, workspace, state folder, options, priority. */
export const SERVERS_SETTINGS = settingsSection('ServersSettings', [
  'scExecutable',
  'usingSimulator',
  'licenseFile',
  'license',
  'modelDirs',
  'allowedModelRoots',
  'workspaceDir',
  'stateDir',
  'stateDirIsDefault',
  'extraArgs',
  'serversUseTls',
  'childNice',
]);
export type ServersSettings = SettingsOf<typeof SERVERS_SETTINGS>;

export function readServers(read: EnvReader, listener: Pick<ListenerSettings, 'port'>, env: Env): ServersSettings {
  const executable = read.string('SC_EXECUTABLE');
  const usingSimulator = executable === undefined;
  const license = readLicense(read, usingSimulator);
  const modelDirs = read.list('SC_MODEL_DIRS', ':').map((dir) => path.resolve(dir));
  if (modelDirs.length === 0 && usingSimulator) modelDirs.push(SIMULATOR_SAMPLE_MODELS);
  const badDir = modelDirs.find((dir) => dir.includes(';'));
  if (badDir) read.problems.push(`SC_MODEL_DIRS entries may not contain ';', got ${JSON.stringify(badDir)}`);
  const roots = read.list('SC_ALLOWED_MODEL_ROOTS', ':').map((dir) => path.resolve(dir));
  const workspace = read.string('SC_WORKSPACE_DIR');
  const extraArgs = parseExtraArgs(read);
  return {
    scExecutable: path.resolve(executable ?? BUNDLED_SIMULATOR),
    usingSimulator,
    ...license,
    modelDirs,
    allowedModelRoots: roots.length > 0 ? roots : [...modelDirs],
    workspaceDir: workspace ? path.resolve(workspace) : undefined,
    ...readStateDir(read, listener.port, env),
    extraArgs,
    serversUseTls: parseArgv(extraArgs).sslCertificateFile !== undefined,
    childNice: read.int('SC_NICE', 10, 0, 19),
  };
}

function readLicense(read: EnvReader, usingSimulator: boolean): Pick<AppConfig, 'licenseFile' | 'license'> {
  let licenseFile = read.string('SC_LICENSE_FILE');
  const license = read.string('SC_LICENSE');
  if (licenseFile && license) {
    read.problems.push(
      'SC_LICENSE_FILE and SC_LICENSE are both set: set only one (the file is preferred: a key on the command line shows in ps)',
    );
  } else if (!licenseFile && !license) {
    if (usingSimulator) licenseFile = SIMULATOR_DUMMY_LICENSE;
    else read.problems.push('SC_LICENSE_FILE (preferred) or SC_LICENSE is required when SC_EXECUTABLE is set');
  }
  const keyProblem = license === undefined ? undefined : argvValueProblem(license);
  if (keyProblem) read.problems.push(`SC_LICENSE ${keyProblem}: it is passed to the servers as --license`);
  return { licenseFile: licenseFile ? path.resolve(licenseFile) : undefined, license };
}

function readStateDir(read: EnvReader, port: number, env: Env): Pick<AppConfig, 'stateDir' | 'stateDirIsDefault'> {
  const stateDir = read.string('SC_STATE_DIR');
  // An ephemeral PORT (0) names no stable instance, so without an explicit SC_STATE_DIR nothing is kept.
  const stateDirIsDefault = !stateDir && port !== 0;
  if (stateDir) return { stateDir: path.resolve(stateDir), stateDirIsDefault };
  return {
    stateDir: stateDirIsDefault ? path.join(defaultStateParent(env), `sc-spawner-${port}`) : undefined,
    stateDirIsDefault,
  };
}

/** What of the service's environment a server gets: SC_CHILD_ENV, and the names it never gets (the settings). */
export const CHILD_ENV_SETTINGS = settingsSection('ChildEnvSettings', ['childEnv', 'settingNames']);
export type ChildEnvSettings = SettingsOf<typeof CHILD_ENV_SETTINGS>;

/**
 * SC_CHILD_ENV, and the names of the service's own settings (never passed on to a server). Read last: by then
 * every other setting has been read, so all their names are known.
 */
export function readChildEnv(read: EnvReader): ChildEnvSettings {
  const childEnv = read.list('SC_CHILD_ENV', ',').flatMap((item) => item.split(/\s+/).filter(Boolean));
  const settingNames = new Set([...read.names].filter((name) => name !== 'DISPLAY'));
  for (const entry of childEnv) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*\*?$/.test(entry)) {
      read.problems.push(
        `SC_CHILD_ENV entries must be variable names, or a name prefix ending in '*' (e.g. MY_VENDOR_*), got ${JSON.stringify(entry)}`,
      );
    } else if (settingNames.has(entry)) {
      read.problems.push(
        `SC_CHILD_ENV may not pass ${entry} on: it is a setting of this service, never given to a server`,
      );
    }
  }
  return { childEnv, settingNames };
}
