export type DrainDecision = 'wait' | 'idle' | 'timed_out';

/** While draining: wait while sessions live and the timeout has not passed; then stop (none left, or time is up). */
export function decideDrain(input: {
  liveSpawns: number;
  startedAt: number;
  now: number;
  timeoutS: number;
}): DrainDecision {
  if (input.liveSpawns === 0) return 'idle';
  return input.now - input.startedAt >= input.timeoutS * 1000 ? 'timed_out' : 'wait';
}
