import { decideDrain } from './drain-policy';

describe('decideDrain', () => {
  const startedAt = 1_000_000;
  it('idle as soon as no session is live, timeout or not', () => {
    expect(decideDrain({ liveSpawns: 0, startedAt, now: startedAt, timeoutS: 60 })).toBe('idle');
    expect(decideDrain({ liveSpawns: 0, startedAt, now: startedAt + 120_000, timeoutS: 60 })).toBe('idle');
  });
  it('waits while sessions live and time remains, times out from DRAIN_TIMEOUT_S on', () => {
    expect(decideDrain({ liveSpawns: 2, startedAt, now: startedAt, timeoutS: 60 })).toBe('wait');
    expect(decideDrain({ liveSpawns: 2, startedAt, now: startedAt + 59_999, timeoutS: 60 })).toBe('wait');
    expect(decideDrain({ liveSpawns: 2, startedAt, now: startedAt + 60_000, timeoutS: 60 })).toBe('timed_out');
    expect(decideDrain({ liveSpawns: 1, startedAt, now: startedAt + 600, timeoutS: 0.5 })).toBe('timed_out');
  });
});
