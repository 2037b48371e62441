import { HEARTBEAT_MS, heard, hesitant, startWatch, UNRESPONSIVE_MS, watchTick, type RelayWatch } from './relay-watch';

interface Script {
  /** Whether the ping of this tick is answered before the next tick. */
  answers(tick: number): boolean;
  /** Whether some other message (a report) comes before the next tick. */
  reports?(tick: number): boolean;
}

/** Ticks every HEARTBEAT_MS from 0 as `script` says the relay process behaves; the first kill, if any. */
function run(ticks: number, script: Script) {
  let watch = startWatch(0);
  let hesitantFrom: number | undefined;
  for (let i = 1; i <= ticks; i++) {
    const now = i * HEARTBEAT_MS;
    const step = watchTick(watch, now);
    if (step.action === 'kill') return { killedAtTick: i, silentMs: step.silentMs, hesitantFrom, watch };
    watch = step.watch;
    if (script.answers(i)) watch = heard(watch, now + 10, step.seq);
    else if (script.reports?.(i)) watch = heard(watch, now + 10);
    if (hesitantFrom === undefined && hesitant(watch, now + 500)) hesitantFrom = i;
  }
  return { killedAtTick: undefined, hesitantFrom, watch };
}

describe('relay process watch', () => {
  it('a relay process that answers every ping is never killed nor avoided', () => {
    const result = run(100, { answers: () => true });
    expect(result).toMatchObject({ killedAtTick: undefined, hesitantFrom: undefined });
  });

  it('one that falls silent gets no new tunnels from 2 s on and is killed after 5 s', () => {
    const result = run(30, { answers: (tick) => tick < 10 });
    expect(result.hesitantFrom).toBe(12); // the ping of tick 10 has waited 2.5 s
    expect(result.killedAtTick).toBe(10 + UNRESPONSIVE_MS / HEARTBEAT_MS);
    expect(result.silentMs).toBe(UNRESPONSIVE_MS);
  });

  it('one that answers every ping 3 s late is avoided for as long as it is late, and not killed', () => {
    let watch = startWatch(0);
    const sent = new Map<number, number>();
    let avoidedAt: number[] = [];
    for (let i = 1; i <= 20; i++) {
      const now = i * HEARTBEAT_MS;
      const step = watchTick(watch, now);
      expect(step.action).toBe('ping');
      if (step.action !== 'ping') return;
      watch = step.watch;
      sent.set(step.seq, now);
      const late = [...sent].find(([, at]) => at === now - 3 * HEARTBEAT_MS);
      if (late) watch = heard(watch, now + 1, late[0]);
      if (hesitant(watch, now + 1)) avoidedAt = [...avoidedAt, i];
    }
    expect(avoidedAt).toEqual(Array.from({ length: 18 }, (_, k) => k + 3));
  });

  it('a relay process that reports but whose pongs lag (a busy service reading its backlog) is not killed', () => {
    const result = run(30, { answers: () => false, reports: () => true });
    expect(result.killedAtTick).toBeUndefined();
    expect(result.hesitantFrom).toBe(3); // its first ping has waited 2.5 s
  });

  it('a late answer, before the fifth second, saves it; a pong answers the earlier pings too', () => {
    // Pings 5 to 7 unanswered, the one of tick 8 answered (and with it 5 to 7): the wait starts with tick 9's.
    expect(run(30, { answers: (tick) => tick < 5 || tick === 8 }).killedAtTick).toBe(14);
    expect(run(30, { answers: (tick) => tick % 4 === 0 }).killedAtTick).toBeUndefined();
  });

  it('time the service was not looking (its own loop stalled) does not count against the relay process', () => {
    const waiting: RelayWatch = { lastTick: 1000, nextSeq: 2, waiting: [{ seq: 1, sentAt: 1000 }], lastHeard: 990 };
    // The next tick comes 9 s late: only its regular second counts, so no kill.
    const step = watchTick(waiting, 10_000);
    expect(step.action).toBe('ping');
    if (step.action !== 'ping') return;
    expect(step.watch.waiting).toEqual([
      { seq: 1, sentAt: 9000 },
      { seq: 2, sentAt: 10_000 },
    ]);
    // Stalls of 1 s every other tick only slow the verdict down: silent from 0, killed once 5 s of looking add up.
    let watch = startWatch(0);
    let now = 0;
    for (let i = 1; i <= 20; i++) {
      now += i % 2 === 0 ? 2 * HEARTBEAT_MS : HEARTBEAT_MS;
      const next = watchTick(watch, now);
      if (next.action === 'kill') {
        expect(i).toBeGreaterThan(UNRESPONSIVE_MS / HEARTBEAT_MS);
        expect(i).toBeLessThan(20);
        return;
      }
      watch = next.watch;
    }
    throw new Error('a relay process silent for 30 s was never killed');
  });

  it('a relay process that never says a word from its start is killed too', () => {
    const result = run(10, { answers: () => false });
    expect(result.killedAtTick).toBe(1 + UNRESPONSIVE_MS / HEARTBEAT_MS);
  });

  it('the unanswered pings kept are bounded', () => {
    const result = run(200, { answers: () => false, reports: () => true });
    expect(result.watch.waiting.length).toBeLessThanOrEqual(64);
    expect(result.watch.waiting[0].seq).toBe(1);
  });
});
