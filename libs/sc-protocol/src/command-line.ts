import { argvValueProblem } from './argv-value';

/**
 * The ts3d_sc_server command line: one table drives both building (toArgv) and parsing (parseArgv),
 * so the service and the simulator cannot disagree about an option's name or type.
 */
export type RendererType = 'csr' | 'ssr';
export const RENDERER_TYPES: readonly RendererType[] = ['csr', 'ssr'];

export interface ScServerOptions {
  id?: string;
  scPort?: number;
  license?: string;
  licenseFile?: string;
  csr?: boolean;
  ssr?: boolean;
  ssrGpuIndex?: number;
  ssrEgl?: boolean;
  modelSearchDirectories?: string[];
  modelFile?: string;
  sessionToken?: string;
  workspaceDir?: string;
  livelinessEndpoint?: string;
  livelinessUpdateFrequency?: number;
  initialUseDuration?: number;
  sslCertificateFile?: string;
  sslPrivateKeyFile?: string;
  logFile?: string;
  scVerboseLogging?: boolean;
}

type OptionKind = 'string' | 'port' | 'index' | 'seconds' | 'boolean' | 'list';

interface OptionSpec {
  key: keyof ScServerOptions;
  flag: string;
  kind: OptionKind;
}

/** Order here is the order toArgv emits options in. */
export const OPTION_SPECS: readonly OptionSpec[] = [
  { key: 'id', flag: '--id', kind: 'string' },
  { key: 'scPort', flag: '--sc-port', kind: 'port' },
  { key: 'license', flag: '--license', kind: 'string' },
  { key: 'licenseFile', flag: '--license-file', kind: 'string' },
  { key: 'csr', flag: '--csr', kind: 'boolean' },
  { key: 'ssr', flag: '--ssr', kind: 'boolean' },
  { key: 'ssrGpuIndex', flag: '--ssr-gpu-index', kind: 'index' },
  { key: 'ssrEgl', flag: '--ssr-egl', kind: 'boolean' },
  { key: 'modelSearchDirectories', flag: '--model-search-directories', kind: 'list' },
  { key: 'modelFile', flag: '--model-file', kind: 'string' },
  { key: 'sessionToken', flag: '--session-token', kind: 'string' },
  { key: 'workspaceDir', flag: '--workspace-dir', kind: 'string' },
  { key: 'livelinessEndpoint', flag: '--liveliness-endpoint', kind: 'string' },
  { key: 'livelinessUpdateFrequency', flag: '--liveliness-update-frequency', kind: 'seconds' },
  { key: 'initialUseDuration', flag: '--initial-use-duration', kind: 'seconds' },
  { key: 'sslCertificateFile', flag: '--ssl-certificate-file', kind: 'string' },
  { key: 'sslPrivateKeyFile', flag: '--ssl-private-key-file', kind: 'string' },
  { key: 'logFile', flag: '--log-file', kind: 'string' },
  { key: 'scVerboseLogging', flag: '--sc-verbose-logging', kind: 'boolean' },
];

export const MODEL_SEARCH_PATH_SEPARATOR = ';';

/** A command line the server would reject (the simulator exits 2 with this message). */
export class ArgvError extends Error {
  override readonly name = 'ArgvError';
}

const SPEC_BY_FLAG = new Map(OPTION_SPECS.map((spec) => [spec.flag, spec]));

/**
 * Builds the command line for these options (undefined ones are left out).
 * Throws ArgvError for a value the server would reject (e.g. port 0, a negative or non-finite number of
 * seconds, a search directory containing ';'): toArgv never produces a command line that parseArgv refuses.
 */
export function toArgv(options: ScServerOptions): string[] {
  const argv: string[] = [];
  for (const spec of OPTION_SPECS) {
    const value = options[spec.key];
    if (value === undefined) continue;
    const text = formatValue(spec, value);
    parseValue(spec, text); // throws ArgvError if the server would not accept it
    assertSafeValue(spec, value);
    argv.push(spec.flag, text);
  }
  return argv;
}

/** Every string value, and each entry of a list, must pass the argv-value rule (see argv-value.ts). */
function assertSafeValue(spec: OptionSpec, value: unknown): void {
  const texts = spec.kind === 'list' ? (value as string[]) : spec.kind === 'string' ? [String(value)] : [];
  for (const text of texts) {
    const problem = argvValueProblem(text);
    if (problem) throw new ArgvError(`${spec.flag}: the value ${JSON.stringify(text.slice(0, 80))} ${problem}`);
  }
}

function formatValue(spec: OptionSpec, value: unknown): string {
  switch (spec.kind) {
    case 'list': {
      const entries = value as string[];
      const bad = entries.find((entry) => entry.includes(MODEL_SEARCH_PATH_SEPARATOR) || entry === '');
      if (bad !== undefined) {
        throw new ArgvError(
          `${spec.flag}: entry ${JSON.stringify(bad)} cannot be passed: entries must be non-empty and contain no '${MODEL_SEARCH_PATH_SEPARATOR}'`,
        );
      }
      return entries.join(MODEL_SEARCH_PATH_SEPARATOR);
    }
    case 'boolean':
      return value ? 'true' : 'false';
    case 'seconds':
      return formatSeconds(value as number);
    default:
      return String(value);
  }
}

/** Plain decimal notation: String(1e-7) is "1e-7", which the server (and parseArgv) would not read as a number. */
function formatSeconds(seconds: number): string {
  const text = String(seconds);
  if (!/e/i.test(text) || !Number.isFinite(seconds) || seconds < 0 || seconds >= 1e21) return text;
  return seconds.toFixed(20).replace(/\.?0+$/, '');
}

/**
 * Parses a ts3d_sc_server command line. Accepts `--opt value` and `--opt=value`.
 * Throws ArgvError for an unknown option, a missing value or a value of the wrong type.
 * Required options are checked separately by missingRequiredOptions(), as the real server reports them after parsing.
 */
export function parseArgv(argv: readonly string[]): ScServerOptions {
  const options: ScServerOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const item = argv[i];
    if (!item.startsWith('--')) throw new ArgvError(`unexpected argument ${JSON.stringify(item)}`);
    const eq = item.indexOf('=');
    const flag = eq === -1 ? item : item.slice(0, eq);
    const spec = SPEC_BY_FLAG.get(flag);
    if (!spec) throw new ArgvError(`unknown option ${flag}`);
    let raw: string;
    if (eq !== -1) {
      raw = item.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) throw new ArgvError(`option ${flag} requires a value`);
      raw = argv[++i];
    }
    (options as Record<string, unknown>)[spec.key] = parseValue(spec, raw);
  }
  return options;
}

function parseValue(spec: OptionSpec, raw: string): unknown {
  switch (spec.kind) {
    case 'string':
      return raw;
    case 'list':
      return raw === '' ? [] : raw.split(MODEL_SEARCH_PATH_SEPARATOR);
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw new ArgvError(`option ${spec.flag} expects true or false, got ${JSON.stringify(raw)}`);
    case 'port': {
      const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
      if (!(port >= 1 && port <= 65535)) {
        throw new ArgvError(`option ${spec.flag} expects a port number from 1 to 65535, got ${JSON.stringify(raw)}`);
      }
      return port;
    }
    case 'index': {
      if (!/^\d{1,4}$/.test(raw)) {
        throw new ArgvError(`option ${spec.flag} expects a whole number of 0 or more, got ${JSON.stringify(raw)}`);
      }
      return Number(raw);
    }
    case 'seconds': {
      const seconds = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isFinite(seconds)) {
        throw new ArgvError(`option ${spec.flag} expects a number of seconds, got ${JSON.stringify(raw)}`);
      }
      return seconds;
    }
  }
}

/** What the server requires beyond well-formed options: --id, --sc-port and exactly one license option. */
export function missingRequiredOptions(options: ScServerOptions): string[] {
  const problems: string[] = [];
  if (options.id === undefined || options.id === '') problems.push('--id is required');
  if (options.scPort === undefined) problems.push('--sc-port is required');
  const licenseOptions = [options.license, options.licenseFile].filter((v) => v !== undefined).length;
  if (licenseOptions === 0) problems.push('one of --license or --license-file is required');
  if (licenseOptions === 2) problems.push('give only one of --license and --license-file');
  return problems;
}

/** The renderer a server started with these options uses: CSR unless SSR is switched on. */
export function rendererOf(options: ScServerOptions): RendererType {
  return options.ssr === true && options.csr !== true ? 'ssr' : 'csr';
}
