import { CLOSE_IDLE_TIMEOUT, CLOSE_LIFETIME_REACHED, CLOSE_REASONS } from '@app/sc-protocol';
import { stalledBetween, type Stall } from './service-stall';
import type { LimitReason, SpawnRecord } from './spawn-record';

export interface SessionLimitSettings {
  /** SC_IDLE_TIMEOUT_S (0: off); applies only to watched sessions. */
  idleTimeoutS: number;
  /** SC_MAX_SESSION_S (0: off); a session's own maxSessionS may be lower. */
  maxSessionS: number;
  /** SC_END_WARNING_S: the warning goes out this long before the end (at once when the limit is shorter). */
  endWarningS: number;
}

/** What the sweep must do to one session for the idle and lifetime limits. */
export type SessionLimitAction =
  /** The `expiring` warning: the session ends in secondsLeft unless (idle only) its viewer sends something. */
  | { kind: 'warn'; id: string; reason: LimitReason; secondsLeft: number }
  /** The viewer was active again after an idle warning: the warning no longer holds. */
  | { kind: 'cancel_warning'; id: string; reason: LimitReason }
  /** The limit is reached: stop it like a DELETE, the viewer closed with closeCode and closeReason. */
  | { kind: 'end'; id: string; reason: LimitReason; closeCode: number; closeReason: string; message: string };

interface Deadline {
  reason: LimitReason;
  /** When the session ends. */
  at: number;
  /** When its warning goes out. */
  warnAt: number;
  limitS: number;
}

/**
 * The idle and lifetime rules, as a pure function of the live sessions, the time and the settings: beside
 * decideTimeouts(), applied by the same sweep. Only ready or connected sessions handed out to a caller count
 * (an unclaimed warm server is nobody's session yet; its clocks start at the claim). The service's `stalls` are no
 * idle time: what the viewer sent meanwhile is still unread (the lifetime is wall-clock time).
 */
export function decideSessionLimits(
  records: readonly SpawnRecord[],
  now: number,
  settings: SessionLimitSettings,
  stalls: readonly Stall[] = [],
): SessionLimitAction[] {
  const actions: SessionLimitAction[] = [];
  for (const record of records) actions.push(...decideFor(record, now, settings, stalls));
  return actions;
}

function decideFor(
  record: SpawnRecord,
  now: number,
  settings: SessionLimitSettings,
  stalls: readonly Stall[],
): SessionLimitAction[] {
  if (record.state !== 'ready' && record.state !== 'connected') return [];
  if (record.processGoneAt !== undefined || record.stopRequestedAt !== undefined || record.isUnclaimedWarm) return [];
  const id = record.id;
  const deadlines = deadlinesOf(record, settings, now, stalls);
  const due = deadlines.filter((d) => now >= d.at).sort((a, b) => a.at - b.at)[0];
  if (due) return [endAction(id, due)];
  const actions: SessionLimitAction[] = [];
  const warned = record.expiring;
  if (warned?.reason === 'idle' && !deadlines.some((d) => d.reason === 'idle' && now >= d.warnAt)) {
    actions.push({ kind: 'cancel_warning', id, reason: 'idle' });
  }
  const toWarn = deadlines.filter((d) => now >= d.warnAt).sort((a, b) => a.at - b.at)[0];
  const stillWarned = warned !== undefined && !actions.some((a) => a.kind === 'cancel_warning');
  if (toWarn && !(stillWarned && warned.reason === toWarn.reason)) {
    actions.push({ kind: 'warn', id, reason: toWarn.reason, secondsLeft: Math.ceil((toWarn.at - now) / 1000) });
  }
  return actions;
}

function deadlinesOf(
  record: SpawnRecord,
  { idleTimeoutS, maxSessionS, endWarningS }: SessionLimitSettings,
  now: number,
  stalls: readonly Stall[],
): Deadline[] {
  const deadlines: Deadline[] = [];
  const start = record.sessionStartedAt;
  const lifetimeS = effectiveLifetimeS(maxSessionS, record.maxSessionS);
  if (lifetimeS > 0) deadlines.push(deadline('lifetime', start, lifetimeS, endWarningS));
  if (idleTimeoutS > 0 && record.watched) {
    // A viewer joining at /ws/<token> is where watching starts for a session the relay did not carry from its start.
    const lastActive = Math.max(start, record.connectedAt ?? start, record.lastActivityAt ?? start);
    const idleFrom = lastActive + stalledBetween(stalls, lastActive, now);
    deadlines.push(deadline('idle', idleFrom, idleTimeoutS, endWarningS));
  }
  return deadlines;
}

function deadline(reason: LimitReason, from: number, limitS: number, warningS: number): Deadline {
  const at = from + limitS * 1000;
  return { reason, at, warnAt: warningS > 0 ? from + Math.max(0, limitS - warningS) * 1000 : at, limitS };
}

/** The lifetime limit that applies: the request's own when lower than the node's (0 on either side: not set). */
export function effectiveLifetimeS(nodeLimitS: number, requestedS: number | undefined): number {
  if (requestedS === undefined || requestedS <= 0) return nodeLimitS;
  return nodeLimitS > 0 ? Math.min(nodeLimitS, requestedS) : requestedS;
}

function endAction(id: string, due: Deadline): SessionLimitAction {
  const closeCode = due.reason === 'idle' ? CLOSE_IDLE_TIMEOUT : CLOSE_LIFETIME_REACHED;
  const message =
    due.reason === 'idle'
      ? `idle timeout: its viewer sent nothing for ${due.limitS} s`
      : `lifetime reached: it ran for ${due.limitS} s`;
  return { kind: 'end', id, reason: due.reason, closeCode, closeReason: CLOSE_REASONS[closeCode], message };
}
