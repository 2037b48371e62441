import { answered, HEARTBEAT_MS, hesitant, UNRESPONSIVE_MS, watchTick, type RelayWatch } from './relay-watch';

/** Ticks every HEARTBEAT_MS from `start`, answering each ping when `answers` says so; the first kill, if any. */
function run(ticks: number, answers: (tick: number) => boolean, start = 0) {
  let watch: RelayWatch = { lastTick: start };
  for (let i = 1; i <= ticks; i++) {
    const step = watchTick(watch, start + i * HEARTBEAT_MS);
    if (step.action === 'kill') return { killedAtTick: i, silentMs: step.silentMs, watch };
    watch = answers(i) ? answered(step.watch) : step.watch;
  }
  return { killedAtTick: undefined, watch };
}

describe('relay process watch', () => {
  it('a relay process that answers every ping is never killed nor avoided', () => {
    const result = run(100, () => true);
    expect(result.killedAtTick).toBeUndefined();
    expect(hesitant(result.watch, 100 * HEARTBEAT_MS + 10)).toBe(false);
  });

  it('one that stops answering gets no new tunnels after 2 s and is killed after 5 s', () => {
    const silentFrom = 10;
    const result = run(30, (tick) => tick < silentFrom);
    expect(result.killedAtTick).toBe(silentFrom + UNRESPONSIVE_MS / HEARTBEAT_MS);
    expect(result.silentMs).toBe(UNRESPONSIVE_MS);
    const firstUnanswered = silentFrom * HEARTBEAT_MS;
    const watch = { lastTick: firstUnanswered, unansweredSince: firstUnanswered };
    expect(hesitant(watch, firstUnanswered + 1999)).toBe(false);
    expect(hesitant(watch, firstUnanswered + 2000)).toBe(true);
  });

  it('a late answer, before the fifth second, saves it', () => {
    // Pings 5 to 7 unanswered, the one of tick 8 answered: the wait starts again with the ping of tick 9.
    expect(run(30, (tick) => tick < 5 || tick === 8).killedAtTick).toBe(14);
    expect(run(30, (tick) => tick % 4 === 0).killedAtTick).toBeUndefined();
  });

  it("a stall of the service's own loop judges nothing: the wait starts over", () => {
    const waiting: RelayWatch = { lastTick: 1000, unansweredSince: 1000 };
    // Next tick 9 s late (the service was busy): not a kill, a new ping.
    const step = watchTick(waiting, 10_000);
    expect(step).toEqual({ action: 'ping', watch: { lastTick: 10_000, unansweredSince: 10_000 } });
    // From then on the usual rule: prompt ticks, still no answer, killed 5 s after the new ping.
    expect(watchTick({ lastTick: 14_000, unansweredSince: 10_000 }, 15_000)).toEqual({
      action: 'kill',
      silentMs: 5000,
    });
    expect(watchTick({ lastTick: 13_000, unansweredSince: 10_000 }, 14_000).action).toBe('ping');
  });

  it('before any tick nothing is hesitant', () => {
    expect(hesitant(undefined, 123)).toBe(false);
    expect(hesitant({ lastTick: 0 }, 10_000)).toBe(false);
  });
});
