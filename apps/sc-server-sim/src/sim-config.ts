import { readFileSync } from 'fs';
import {
  ArgvError,
  DEFAULT_INITIAL_USE_DURATION_S,
  DEFAULT_LIVELINESS_UPDATE_FREQUENCY_S,
  SC_EXIT_CODES,
  missingRequiredOptions,
  parseArgv,
  rendererOf,
  type RendererType,
  type ScServerOptions,
} from '@app/sc-protocol';
import { FaultSpecError, selectFaults, type FaultSet } from './faults';

/** Everything the simulator needs to run, validated. Deliberately holds no license material. */
export interface SimConfig {
  id: string;
  port: number;
  /** Bind host; undefined means all interfaces (env SCSIM_HOST overrides). */
  host: string | undefined;
  rendererType: RendererType;
  modelFile: string | null;
  modelSearchDirectories: string[];
  /** undefined when no token is required (an empty --session-token requires none either). */
  sessionToken: string | undefined;
  livelinessEndpoint: string | undefined;
  pingPeriodMs: number;
  initialUseMs: number;
  /** env SCSIM_READY_DELAY_MS plus any slow-ready fault. */
  readyDelayMs: number;
  faults: FaultSet;
  tls: { certificateFile: string; privateKeyFile: string } | undefined;
  logFile: string | undefined;
  verbose: boolean;
}

/** The simulator must stop with this exit code and message (on stderr). */
export class SimExit extends Error {
  override readonly name = 'SimExit';
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Pings no faster than this, so `--liveliness-update-frequency 0` cannot turn into a busy loop. */
export const MIN_PING_PERIOD_MS = 10;
const MAX_TIMER_MS = 2 ** 31 - 1;

export type ReadFile = (path: string) => Buffer;

/**
 * Validates the command line and environment the way the real server would, in this order:
 * malformed or missing options, a bad liveliness endpoint or fault selection (exit 2),
 * an empty --license (exit 6), an unreadable or empty --license-file (exit 7).
 * Throws SimExit. The license file is read only to check it; its contents are dropped.
 */
export function loadConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  readFile: ReadFile = (path) => readFileSync(path),
): SimConfig {
  let options: ScServerOptions;
  try {
    options = parseArgv(argv);
  } catch (error) {
    if (error instanceof ArgvError) throw new SimExit(SC_EXIT_CODES.INVALID_ARGUMENT, error.message);
    throw error;
  }
  const problems = missingRequiredOptions(options);
  if (problems.length > 0) throw new SimExit(SC_EXIT_CODES.INVALID_ARGUMENT, problems.join('; '));

  if (options.livelinessEndpoint !== undefined) checkEndpoint(options.livelinessEndpoint);
  if ((options.sslCertificateFile === undefined) !== (options.sslPrivateKeyFile === undefined)) {
    throw new SimExit(
      SC_EXIT_CODES.INVALID_ARGUMENT,
      '--ssl-certificate-file and --ssl-private-key-file must be given together',
    );
  }

  let faults: FaultSet;
  try {
    faults = selectFaults(env.SCSIM_FAULT, options.modelFile);
  } catch (error) {
    if (error instanceof FaultSpecError) throw new SimExit(SC_EXIT_CODES.INVALID_ARGUMENT, error.message);
    throw error;
  }
  const envDelay = env.SCSIM_READY_DELAY_MS ?? '';
  if (envDelay !== '' && !/^\d{1,10}$/.test(envDelay)) {
    throw new SimExit(SC_EXIT_CODES.INVALID_ARGUMENT, `SCSIM_READY_DELAY_MS must be a whole number of milliseconds`);
  }

  checkLicense(options, readFile);

  const frequencyS = options.livelinessUpdateFrequency ?? DEFAULT_LIVELINESS_UPDATE_FREQUENCY_S;
  const initialUseS = options.initialUseDuration ?? DEFAULT_INITIAL_USE_DURATION_S;
  return {
    id: options.id!,
    port: options.scPort!,
    host: env.SCSIM_HOST ? env.SCSIM_HOST : undefined,
    rendererType: rendererOf(options),
    modelFile: options.modelFile ?? null,
    modelSearchDirectories: options.modelSearchDirectories ?? [],
    sessionToken: options.sessionToken ? options.sessionToken : undefined,
    livelinessEndpoint: options.livelinessEndpoint,
    pingPeriodMs: Math.min(MAX_TIMER_MS, Math.max(MIN_PING_PERIOD_MS, Math.round(frequencyS * 1000))),
    initialUseMs: Math.round(initialUseS * 1000),
    readyDelayMs: Math.min(MAX_TIMER_MS, Number(envDelay || '0') + faults.slowReadyMs),
    faults,
    tls:
      options.sslCertificateFile !== undefined
        ? { certificateFile: options.sslCertificateFile, privateKeyFile: options.sslPrivateKeyFile! }
        : undefined,
    logFile: options.logFile,
    verbose: options.scVerboseLogging === true,
  };
}

function checkEndpoint(endpoint: string): void {
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new SimExit(
      SC_EXIT_CODES.INVALID_ARGUMENT,
      `--liveliness-endpoint must be an http:// or https:// URL, got ${JSON.stringify(endpoint)}`,
    );
  }
}

/** Messages name the option and the file, never the key or the file's contents. */
function checkLicense(options: ScServerOptions, readFile: ReadFile): void {
  if (options.license !== undefined) {
    if (options.license.trim() === '')
      throw new SimExit(SC_EXIT_CODES.INVALID_LICENSE, 'invalid license: --license is empty');
    return;
  }
  const path = options.licenseFile!;
  let contents: Buffer;
  try {
    contents = readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new SimExit(SC_EXIT_CODES.INVALID_LICENSE_FILE, `invalid license file: cannot read ${path} (${code})`);
  }
  if (contents.toString('utf8').trim() === '') {
    throw new SimExit(SC_EXIT_CODES.INVALID_LICENSE_FILE, `invalid license file: ${path} is empty`);
  }
}
