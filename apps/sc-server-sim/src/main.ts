import { SC_EXIT_CODES, exitCodeMeaning, parseArgv } from '@app/sc-protocol';
import { SimExit, loadConfig } from './sim-config';
import { SimLog } from './sim-log';
import { Simulator } from './simulator';

/**
 * Entry point of the ts3d_sc_server simulator (apps/sc-server-sim/bin/ts3d_sc_server calls it).
 * Same command line, liveliness protocol and exit codes as the real Stream Cache Server; see
 * faults.ts for the fault injection it adds.
 */
export function main(argv: string[]): void {
  const log = new SimLog();
  let simulator: Simulator;
  try {
    const config = loadConfig(argv, process.env);
    log.setId(config.id);
    log.setLogFile(config.logFile);
    simulator = new Simulator(config, log);
  } catch (error) {
    const id = idIn(argv);
    if (id) log.setId(id);
    fail(log, error);
  }
  simulator.start().catch((error: unknown) => fail(log, error));
}

/** Exits with the code a SimExit asks for, or 3 (internal error) for anything else, e.g. an unreadable TLS key. */
function fail(log: SimLog, error: unknown): never {
  const exitCode = error instanceof SimExit ? error.exitCode : SC_EXIT_CODES.INTERNAL_ERROR;
  const message =
    error instanceof SimExit ? error.message : `internal error: ${(error as Error)?.message ?? String(error)}`;
  log.error(message);
  log.info(`exit ${exitCode} (${exitCodeMeaning(exitCode)})`);
  process.exit(exitCode);
}

/** The --id of a command line that failed validation later on, for the log prefix. */
function idIn(argv: string[]): string | undefined {
  try {
    return parseArgv(argv).id;
  } catch {
    return undefined;
  }
}
