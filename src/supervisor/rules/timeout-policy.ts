import { stalledBetween, type Stall } from './service-stall';
import type { SpawnRecord } from './spawn-record';

export interface TimeoutSettings {
  readyTimeoutS: number;
  pingTimeoutS: number;
  killGraceS: number;
}

/** What the sweep must do to one spawn. */
export type TimeoutAction =
  /** No `ready` in time: mark it timed_out, then stop it. */
  | { kind: 'time_out'; id: string; reason: string }
  /** No liveliness report in time: mark it unresponsive, then stop it. */
  | { kind: 'mark_unresponsive'; id: string; reason: string }
  /** Stop it (SIGTERM to its group) without a state of its own. */
  | { kind: 'stop'; id: string; reason: string }
  /** It ignored SIGTERM (or, `again`, even SIGKILL) for the grace: SIGKILL its group. */
  | { kind: 'kill'; id: string; again: boolean };

/**
 * The timeout rules, as a pure function of the live spawns, the time and the settings. It decides; the
 * supervisor applies (SpawnProcesses.enforce). A server's silence is the time the service ran without hearing
 * from it: the `stalls` do not count, but only they, so stalls that keep coming cannot keep a hung server alive.
 */
export function decideTimeouts(
  records: readonly SpawnRecord[],
  now: number,
  settings: TimeoutSettings,
  stalls: readonly Stall[] = [],
): TimeoutAction[] {
  const actions: TimeoutAction[] = [];
  for (const record of records) {
    const action = decideFor(record, now, settings, stalls);
    if (action) actions.push(action);
  }
  return actions;
}

function decideFor(
  record: SpawnRecord,
  now: number,
  { readyTimeoutS, pingTimeoutS, killGraceS }: TimeoutSettings,
  stalls: readonly Stall[],
): TimeoutAction | undefined {
  // Its exit is being handled: neither a timeout nor a signal applies any more.
  if (record.processGoneAt !== undefined) return undefined;
  const id = record.id;
  const since = (t: number | undefined) => (now - (t ?? record.startedAt)) / 1000;
  const silentFor = (t: number | undefined) => since(t) - stalledBetween(stalls, t ?? record.startedAt, now) / 1000;
  switch (record.state) {
    case 'starting':
      if (silentFor(record.startedAt) < readyTimeoutS) return undefined;
      return { kind: 'time_out', id, reason: `the server did not report ready within ${readyTimeoutS} s` };
    case 'ready':
    case 'connected':
      if (record.viewerLeftAt !== undefined && silentFor(record.viewerLeftAt) >= pingTimeoutS) {
        return { kind: 'stop', id, reason: `no disconnect report within ${pingTimeoutS} s after its viewer left` };
      }
      if (silentFor(record.lastReportAt ?? record.readyAt) < pingTimeoutS) return undefined;
      return { kind: 'mark_unresponsive', id, reason: `no liveliness report for ${pingTimeoutS} s` };
    case 'disconnected':
      // It said it would exit; one that lingers would otherwise hold its port for ever.
      if (since(record.stateChangedAt) < killGraceS) return undefined;
      return { kind: 'stop', id, reason: `still running ${killGraceS} s after reporting disconnect` };
    case 'terminating':
      if (record.sigkillSentAt === undefined)
        return since(record.stopRequestedAt) >= killGraceS ? { kind: 'kill', id, again: false } : undefined;
      return since(record.sigkillSentAt) >= killGraceS ? { kind: 'kill', id, again: true } : undefined;
    default:
      return undefined;
  }
}
