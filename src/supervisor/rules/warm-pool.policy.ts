import { RENDERER_TYPES, type RendererType } from '@app/sc-protocol';
import type { SpawnState } from './spawn-state';

/** First pause after a warm server failed to start; it doubles with each failure in a row, up to the maximum. */
export const WARM_BACKOFF_FIRST_MS = 1000;
export const WARM_BACKOFF_MAX_MS = 60_000;
/** From this many failures in a row the pool counts as failing: readiness goes down and says why. */
export const WARM_FAILING_AFTER = 3;

export type PerRenderer<T> = Record<RendererType, T>;

export interface WarmPoolStatus {
  /** Unclaimed warm servers ready to hand out. */
  csr: number;
  ssr: number;
  target: PerRenderer<number>;
  starting: PerRenderer<number>;
  /** Why refilling is failing (null while healthy). */
  failing: string | null;
  /** When the next refill is tried after failures (ISO time), or null. */
  retryAt: string | null;
}

/** An unclaimed warm server as the policy sees it. */
export interface WarmMember {
  id: string;
  renderer: RendererType;
  state: SpawnState;
  startedAt: number;
}

/** Refill pauses after servers failed to start: how many failed in a row, the last reason, when to try again. */
export interface WarmBackoff {
  failures: number;
  lastFailure?: string;
  retryAt?: number;
}

export interface WarmPoolInput {
  now: number;
  desired: PerRenderer<number>;
  /** Unclaimed warm servers still alive (any live state). */
  members: readonly WarmMember[];
  /** Warm launches under way that are not members yet (their port is being leased). */
  launching: PerRenderer<number>;
  /** Slots free for a new spawn right now. */
  freeSlots: number;
  backoff: PerRenderer<WarmBackoff>;
  maxAgeMs: number;
  shuttingDown: boolean;
}

export type WarmAction =
  | { kind: 'start'; renderer: RendererType; count: number }
  | { kind: 'retire'; id: string; reason: string }
  /** Nothing more to do before this time (an age-out or the end of a backoff), unless something changes. */
  | { kind: 'wait'; until: number };

/** States in which an unclaimed warm server is, or is about to be, ready to hand out. */
const FILLING_STATES: readonly SpawnState[] = ['starting', 'ready'];

/**
 * The warm pool's rules, as a pure function of its members, the free slots, the backoff and the time:
 * retire members that aged out, start what is missing (within the free slots, one at a time while failing,
 * not before the backoff ends), and say when to look again. The WarmPool service applies the actions.
 */
export function decideWarmPool(input: WarmPoolInput): WarmAction[] {
  if (input.shuttingDown) return [];
  const { now, maxAgeMs } = input;
  const actions: WarmAction[] = [];
  const waits: number[] = [];
  const retired = new Set<string>();
  for (const member of input.members) {
    if (member.state !== 'ready') continue;
    const retireAt = member.startedAt + maxAgeMs;
    if (now >= retireAt) {
      retired.add(member.id);
      actions.push({
        kind: 'retire',
        id: member.id,
        reason: `warm server unclaimed for ${maxAgeMs / 1000} s (SC_WARM_MAX_AGE_S); replacing it`,
      });
    } else waits.push(retireAt);
  }
  let freeSlots = input.freeSlots;
  for (const renderer of RENDERER_TYPES) {
    const filling = input.members.filter(
      (m) => m.renderer === renderer && FILLING_STATES.includes(m.state) && !retired.has(m.id),
    );
    const deficit = input.desired[renderer] - filling.length - input.launching[renderer];
    if (deficit <= 0) continue;
    const backoff = input.backoff[renderer];
    if (backoff.retryAt !== undefined && now < backoff.retryAt) {
      waits.push(backoff.retryAt);
      continue;
    }
    // While servers keep failing, one probe at a time: a broken executable is not launched N times at once.
    const probing = backoff.failures > 0;
    if (probing && (filling.some((m) => m.state === 'starting') || input.launching[renderer] > 0)) continue;
    const count = Math.min(probing ? 1 : deficit, freeSlots);
    if (count <= 0) continue;
    freeSlots -= count;
    actions.push({ kind: 'start', renderer, count });
  }
  if (waits.length > 0) actions.push({ kind: 'wait', until: Math.min(...waits) });
  return actions;
}

/** The backoff after a warm server failed to start (or died unclaimed): 1 s, 2 s, 4 s... up to 60 s. */
export function backoffAfterFailure(backoff: WarmBackoff, now: number, reason: string): WarmBackoff {
  const failures = backoff.failures + 1;
  const pause = Math.min(WARM_BACKOFF_FIRST_MS * 2 ** (failures - 1), WARM_BACKOFF_MAX_MS);
  return { failures, lastFailure: reason, retryAt: now + pause };
}

/** A warm server became ready: the renderer is healthy again. */
export function backoffAfterReady(): WarmBackoff {
  return { failures: 0 };
}

/** Whether the pool of this renderer counts as failing (readiness goes down, status says why). */
export function isFailing(backoff: WarmBackoff): boolean {
  return backoff.failures >= WARM_FAILING_AFTER;
}

/**
 * Which unclaimed warm server to retire so that a cold request can have its slot: one still starting first
 * (it serves nobody yet), then the oldest ready one. Members already on their way out are not candidates.
 */
export function pickWarmToRetire(members: readonly WarmMember[]): WarmMember | undefined {
  const candidates = members.filter((m) => FILLING_STATES.includes(m.state));
  const rank = (m: WarmMember) => (m.state === 'starting' ? 0 : 1);
  return [...candidates].sort((a, b) => rank(a) - rank(b) || a.startedAt - b.startedAt)[0];
}
