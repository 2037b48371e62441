import type { SpawnView } from '../supervisor';

/** The HOOPS Server's spawn states, as its /api/status counts them. */
export const HOOPS_STATES = [
  'launching',
  'ready',
  'suspect',
  'disconnected',
  'nice-killed',
  'killed',
  'zombie',
  'dead',
] as const;
export type HoopsState = (typeof HOOPS_STATES)[number];

export interface HoopsStateSettings {
  livelinessIntervalS: number;
  killGraceS: number;
}

/**
 * Our state of one spawn in the HOOPS Server's words:
 * starting -> launching; ready/connected -> ready, or suspect once no report came for 2·I+2 s (as the HOOPS
 * Server judges it); unresponsive/timed_out (about to be stopped) -> suspect; disconnected -> disconnected;
 * terminating -> nice-killed (SIGTERM sent), killed (SIGKILL sent), zombie (still there a kill grace after SIGKILL);
 * failed/exited -> dead.
 */
export function hoopsStateOf(spawn: SpawnView, now: number, settings: HoopsStateSettings): HoopsState {
  switch (spawn.state) {
    case 'starting':
      return 'launching';
    case 'ready':
    case 'connected': {
      const lastHeard = spawn.lastReportAt ?? spawn.readyAt ?? spawn.startedAt;
      return now - lastHeard > (2 * settings.livelinessIntervalS + 2) * 1000 ? 'suspect' : 'ready';
    }
    case 'unresponsive':
    case 'timed_out':
      return 'suspect';
    case 'disconnected':
      return 'disconnected';
    case 'terminating':
      if (spawn.sigkillSentAt === undefined) return 'nice-killed';
      return now - spawn.sigkillSentAt > settings.killGraceS * 1000 ? 'zombie' : 'killed';
    case 'failed':
    case 'exited':
      return 'dead';
  }
}

/** One count per HOOPS state (every state present, zeros included). */
export function hoopsStateCounts(
  spawns: readonly SpawnView[],
  now: number,
  settings: HoopsStateSettings,
): Record<HoopsState, number> {
  const counts = Object.fromEntries(HOOPS_STATES.map((state) => [state, 0])) as Record<HoopsState, number>;
  for (const spawn of spawns) counts[hoopsStateOf(spawn, now, settings)]++;
  return counts;
}
