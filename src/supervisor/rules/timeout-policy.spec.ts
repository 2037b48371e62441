import { SpawnRecord } from './spawn-record';
import { SpawnState } from './spawn-state';
import { sweepStalled } from './service-stall';
import { decideTimeouts, TimeoutSettings } from './timeout-policy';

const SETTINGS: TimeoutSettings = { readyTimeoutS: 10, pingTimeoutS: 5, killGraceS: 2 };
const T0 = Date.UTC(2026, 0, 1);

/** A record in `state`, started at T0, with the given times (ms after T0). */
function recordIn(state: SpawnState, times: Partial<Record<keyof SpawnRecord, number>> = {}): SpawnRecord {
  const record = new SpawnRecord({ id: `spawn-${state}`, wsPort: 40000, rendererType: 'csr', origin: 'api' }, T0);
  record.state = state;
  for (const [key, offset] of Object.entries(times)) (record as unknown as Record<string, number>)[key] = T0 + offset;
  return record;
}

const at = (ms: number) => T0 + ms;

describe('decideTimeouts (pure)', () => {
  it('decides nothing for nothing', () => {
    expect(decideTimeouts([], at(1e9), SETTINGS)).toEqual([]);
  });

  it('starting: times out exactly at SPAWN_READY_TIMEOUT_S, not a millisecond before', () => {
    const record = recordIn('starting');
    expect(decideTimeouts([record], at(9_999), SETTINGS)).toEqual([]);
    expect(decideTimeouts([record], at(10_000), SETTINGS)).toEqual([
      { kind: 'time_out', id: record.id, reason: 'the server did not report ready within 10 s' },
    ]);
  });

  it.each(['ready', 'connected'] as const)(
    '%s: unresponsive PING_TIMEOUT_S after the last report (or ready)',
    (state) => {
      const sinceReady = recordIn(state, { readyAt: 1_000 });
      expect(decideTimeouts([sinceReady], at(5_999), SETTINGS)).toEqual([]);
      expect(decideTimeouts([sinceReady], at(6_000), SETTINGS)).toEqual([
        { kind: 'mark_unresponsive', id: sinceReady.id, reason: 'no liveliness report for 5 s' },
      ]);
      const pinged = recordIn(state, { readyAt: 1_000, lastReportAt: 4_000 });
      expect(decideTimeouts([pinged], at(8_999), SETTINGS)).toEqual([]);
      expect(decideTimeouts([pinged], at(9_000), SETTINGS)).toHaveLength(1);
    },
  );

  it('a viewer that left: stopped PING_TIMEOUT_S later even while the server keeps pinging', () => {
    const record = recordIn('connected', { readyAt: 0, viewerLeftAt: 1_000, lastReportAt: 5_900 });
    expect(decideTimeouts([record], at(5_999), SETTINGS)).toEqual([]);
    expect(decideTimeouts([record], at(6_000), SETTINGS)).toEqual([
      { kind: 'stop', id: record.id, reason: 'no disconnect report within 5 s after its viewer left' },
    ]);
  });

  it('disconnected: stopped once it lingers KILL_GRACE_S after the report', () => {
    const record = recordIn('disconnected', { stateChangedAt: 3_000 });
    expect(decideTimeouts([record], at(4_999), SETTINGS)).toEqual([]);
    expect(decideTimeouts([record], at(5_000), SETTINGS)).toEqual([
      { kind: 'stop', id: record.id, reason: 'still running 2 s after reporting disconnect' },
    ]);
  });

  it('terminating: SIGKILL after KILL_GRACE_S, and again every KILL_GRACE_S it survives', () => {
    const record = recordIn('terminating', { stopRequestedAt: 1_000 });
    expect(decideTimeouts([record], at(2_999), SETTINGS)).toEqual([]);
    expect(decideTimeouts([record], at(3_000), SETTINGS)).toEqual([{ kind: 'kill', id: record.id, again: false }]);
    record.sigkillSentAt = at(3_000);
    expect(decideTimeouts([record], at(4_999), SETTINGS)).toEqual([]);
    expect(decideTimeouts([record], at(5_000), SETTINGS)).toEqual([{ kind: 'kill', id: record.id, again: true }]);
  });

  it.each(['unresponsive', 'timed_out', 'failed', 'exited'] as const)(
    '%s: nothing to decide (stop already under way, or over)',
    (state) => {
      expect(decideTimeouts([recordIn(state)], at(1e9), SETTINGS)).toEqual([]);
    },
  );

  it('the time the service stalled is no silence of a server; kill graces do not move', () => {
    const ready = recordIn('ready', { readyAt: 1_000, lastReportAt: 2_000 });
    const starting = recordIn('starting');
    const left = recordIn('connected', { readyAt: 1_000, lastReportAt: 20_000, viewerLeftAt: 2_000 });
    const terminating = recordIn('terminating', { stopRequestedAt: 1_000 });
    // The service did not run from 3 s to 20 s: at 20 s the reports sent meanwhile are still unread.
    const stalls = [{ at: at(20_000), ms: 17_000 }];
    expect(decideTimeouts([ready, starting, left, terminating], at(20_000), SETTINGS, stalls)).toEqual([
      { kind: 'kill', id: terminating.id, again: false },
    ]);
    // 1 s before the stall and 3.999 s after it.
    expect(decideTimeouts([ready, left], at(23_999), SETTINGS, stalls)).toEqual([]);
    expect(decideTimeouts([ready, starting], at(27_000), SETTINGS, stalls)).toEqual([
      { kind: 'mark_unresponsive', id: ready.id, reason: 'no liveliness report for 5 s' },
      { kind: 'time_out', id: starting.id, reason: 'the server did not report ready within 10 s' },
    ]);
  });

  it('stalls that keep coming do not keep a hung server alive: the time the service ran between them counts', () => {
    const ready = recordIn('ready', { readyAt: 0, lastReportAt: 0 });
    const starting = recordIn('starting');
    // A stall of 2.5 s after every 1.5 s the service runs: a fresh start after each would never time anything out.
    const stalls = Array.from({ length: 20 }, (_, i) => ({ at: at((i + 1) * 4_000), ms: 2_500 }));
    expect(decideTimeouts([ready, starting], at(12_000), SETTINGS, stalls)).toEqual([]);
    expect(decideTimeouts([ready, starting], at(14_000), SETTINGS, stalls)).toEqual([
      { kind: 'mark_unresponsive', id: ready.id, reason: 'no liveliness report for 5 s' },
    ]);
    expect(decideTimeouts([starting], at(28_000), SETTINGS, stalls)).toEqual([
      { kind: 'time_out', id: starting.id, reason: 'the server did not report ready within 10 s' },
    ]);
  });

  it('a sweep more than SWEEP_STALL_MS later than its interval is a stall; the first one is not', () => {
    expect(sweepStalled(undefined, at(60_000), 1000)).toBe(false);
    expect(sweepStalled(at(0), at(2_000), 1000)).toBe(false);
    expect(sweepStalled(at(0), at(2_001), 1000)).toBe(true);
  });

  it('a spawn whose process is gone is left alone whatever its state', () => {
    const record = recordIn('starting', { processGoneAt: 9_000 });
    expect(decideTimeouts([record], at(1e9), SETTINGS)).toEqual([]);
  });

  it('decides for each spawn independently, in order, without changing any record', () => {
    const late = recordIn('starting');
    const fine = recordIn('ready', { readyAt: 0, lastReportAt: 9_000 });
    const lingering = recordIn('disconnected', { stateChangedAt: 0 });
    const before = JSON.stringify([late, fine, lingering]);
    const actions = decideTimeouts([late, fine, lingering], at(10_000), SETTINGS);
    expect(actions.map((a) => [a.kind, a.id])).toEqual([
      ['time_out', late.id],
      ['stop', lingering.id],
    ]);
    expect(JSON.stringify([late, fine, lingering])).toBe(before);
  });
});
