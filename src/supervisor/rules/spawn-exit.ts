import { exitCodeMeaning } from '@app/sc-protocol';
import type { SpawnRecord } from './spawn-record';

/** How a process ended, as the launcher reports it. */
export interface SpawnEnd {
  code: number | null;
  signal: string | null;
}

/** Why a spawn that reported disconnect ended, saying only what was observed (the proxy may not have seen a viewer). */
export function disconnectEndReason(record: SpawnRecord, end: SpawnEnd): string {
  const exit = end.code !== null ? `code ${end.code}` : `signal ${end.signal}`;
  return record.connectedAt !== undefined || record.viewerLeftAt !== undefined
    ? `the server reported disconnect after its viewer left, and exited (${exit})`
    : `the server reported disconnect and exited (${exit}); no viewer attached through the proxy`;
}

/** The log line of an exit: the code and its meaning, or the signal. */
export function exitLogLine(id: string, end: SpawnEnd): { exitMeaning: string | null; msg: string } {
  if (end.code !== null) {
    const meaning = exitCodeMeaning(end.code);
    return { exitMeaning: meaning, msg: `spawn ${id} exited with code: ${end.code} (${meaning})` };
  }
  return { exitMeaning: end.signal, msg: `spawn ${id} exited with signal: ${end.signal}` };
}
