/** A `--model-file` beginning with this prefix selects a simulator fault instead of a model on disk. */
export const SCSIM_FAULT_PREFIX = 'scsim:';

/**
 * Fault injection: lets tests of a supervisor make the simulator misbehave in the ways a real
 * ts3d_sc_server can. Selected per process by env SCSIM_FAULT, or per spawn by a `--model-file`
 * of the form `scsim:<fault>`; the model-file selection replaces the env one. Several faults
 * may be combined with commas, e.g. `scsim:spawn-grandchild,ignore-sigterm`.
 *
 *  never-ready               listens, never reports anything (no ready, ping or disconnect), ignores initial-use expiry
 *  exit-before-ready:<code>  exits with <code> (0..255) before listening, with a reason on stderr
 *  slow-ready:<ms>           reports ready <ms> later than it otherwise would
 *  crash-after:<ms>          exits 1 <ms> after ready, without disconnect
 *  stop-pinging-after:<ms>   <ms> after ready goes silent for good (a hung server); no initial-use exit
 *  disconnect-after:<ms>     <ms> after ready reports disconnect (from its own connection) but keeps running; no initial-use exit
 *  ignore-sigterm            SIGTERM/SIGINT are logged and ignored; no initial-use exit
 *  spawn-grandchild          starts a long-lived child in its own process group and prints `grandchild pid <n>`
 */
export interface FaultSet {
  /** The fault names as given, for logging. Empty when there is no fault. */
  readonly names: readonly string[];
  readonly neverReady: boolean;
  readonly exitBeforeReady?: number;
  readonly slowReadyMs: number;
  readonly crashAfterMs?: number;
  readonly stopPingingAfterMs?: number;
  readonly disconnectAfterMs?: number;
  readonly ignoreSigterm: boolean;
  readonly spawnGrandchild: boolean;
}

export const NO_FAULTS: FaultSet = Object.freeze({
  names: [],
  neverReady: false,
  slowReadyMs: 0,
  ignoreSigterm: false,
  spawnGrandchild: false,
});

export const FAULT_NAMES = [
  'never-ready',
  'exit-before-ready',
  'slow-ready',
  'crash-after',
  'stop-pinging-after',
  'disconnect-after',
  'ignore-sigterm',
  'spawn-grandchild',
] as const;

export class FaultSpecError extends Error {
  override readonly name = 'FaultSpecError';
}

const MAX_DELAY_MS = 2 ** 31 - 1; // the largest delay setTimeout honours

/** Parses `name[:param][,name[:param]...]`. Throws FaultSpecError for an unknown name or a bad parameter. */
export function parseFaults(spec: string): FaultSet {
  const faults: { -readonly [K in keyof FaultSet]: FaultSet[K] } = { ...NO_FAULTS, names: [] };
  const names: string[] = [];
  for (const rawItem of spec.split(',')) {
    const item = rawItem.trim();
    const colon = item.indexOf(':');
    const name = colon === -1 ? item : item.slice(0, colon);
    const param = colon === -1 ? undefined : item.slice(colon + 1);
    switch (name) {
      case 'never-ready':
        noParam(name, param);
        faults.neverReady = true;
        break;
      case 'ignore-sigterm':
        noParam(name, param);
        faults.ignoreSigterm = true;
        break;
      case 'spawn-grandchild':
        noParam(name, param);
        faults.spawnGrandchild = true;
        break;
      case 'exit-before-ready':
        faults.exitBeforeReady = wholeNumber(name, param, 'an exit code', 255);
        break;
      case 'slow-ready':
        faults.slowReadyMs = wholeNumber(name, param, 'milliseconds', MAX_DELAY_MS);
        break;
      case 'crash-after':
        faults.crashAfterMs = wholeNumber(name, param, 'milliseconds', MAX_DELAY_MS);
        break;
      case 'stop-pinging-after':
        faults.stopPingingAfterMs = wholeNumber(name, param, 'milliseconds', MAX_DELAY_MS);
        break;
      case 'disconnect-after':
        faults.disconnectAfterMs = wholeNumber(name, param, 'milliseconds', MAX_DELAY_MS);
        break;
      default:
        throw new FaultSpecError(
          `unknown fault ${JSON.stringify(item)} in ${JSON.stringify(spec)}; known faults: ${FAULT_NAMES.join(', ')}`,
        );
    }
    names.push(item);
  }
  faults.names = names;
  return faults;
}

function noParam(name: string, param: string | undefined): void {
  if (param !== undefined) throw new FaultSpecError(`fault ${name} takes no parameter, got ${JSON.stringify(param)}`);
}

function wholeNumber(name: string, param: string | undefined, what: string, max: number): number {
  const value = param !== undefined && /^\d{1,10}$/.test(param) ? Number(param) : NaN;
  if (!(value <= max)) {
    throw new FaultSpecError(
      `fault ${name} needs ${what} from 0 to ${max}, as ${name}:<n>; got ${JSON.stringify(param ?? '')}`,
    );
  }
  return value;
}

export function isFaultModel(model: string | undefined | null): boolean {
  return typeof model === 'string' && model.startsWith(SCSIM_FAULT_PREFIX);
}

/**
 * The faults in force: a `scsim:` model file wins over env SCSIM_FAULT; an empty or blank SCSIM_FAULT means none.
 * Throws FaultSpecError (the simulator exits 2).
 */
export function selectFaults(envFault: string | undefined, modelFile: string | undefined): FaultSet {
  if (isFaultModel(modelFile)) return parseFaults(modelFile!.slice(SCSIM_FAULT_PREFIX.length));
  if (envFault !== undefined && envFault.trim() !== '') return parseFaults(envFault);
  return NO_FAULTS;
}

/** Faults that make the simulator ignore --initial-use-duration, so that a test sees a stable process. */
export function ignoresInitialUse(faults: FaultSet): boolean {
  return (
    faults.neverReady ||
    faults.ignoreSigterm ||
    faults.stopPingingAfterMs !== undefined ||
    faults.disconnectAfterMs !== undefined
  );
}
