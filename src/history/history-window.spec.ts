import { HistoryWindow, MAX_SAMPLES_PER_MINUTE, MINUTE_MS, percentile, WINDOW_MINUTES } from './history-window';

const T0 = Date.parse('2026-12-04T10:00:00.000Z');

describe('HistoryWindow', () => {
  it('takes nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(sorted, 50), percentile(sorted, 90), percentile(sorted, 99)]).toEqual([50, 90, 99]);
    expect(percentile([7], 99)).toBe(7);
  });

  it('records one entry per minute since start: sessions live (max, carried over), start-up times, rejections', () => {
    const history = new HistoryWindow(T0 + 5_000);
    history.sessionsLive(T0 + 10_000, 1);
    history.sessionsLive(T0 + 20_000, 3);
    history.sessionsLive(T0 + 30_000, 2);
    for (const ms of [100, 200, 300, 400]) history.startup(T0 + 30_000, ms);
    history.rejected(T0 + 40_000, 'capacity');
    history.rejected(T0 + 41_000, 'capacity');
    history.rejected(T0 + 3 * MINUTE_MS, 'rate_limit');

    const { minutes, minuteSeconds, windowMinutes } = history.snapshot(T0 + 3 * MINUTE_MS + 1_000);
    expect({ minuteSeconds, windowMinutes }).toEqual({ minuteSeconds: 60, windowMinutes: WINDOW_MINUTES });
    expect(minutes.map((m) => m.at)).toEqual([
      '2026-12-04T10:00:00.000Z',
      '2026-12-04T10:01:00.000Z',
      '2026-12-04T10:02:00.000Z',
      '2026-12-04T10:03:00.000Z',
    ]);
    expect(minutes.map((m) => m.sessionsLive)).toEqual([3, 2, 2, 2]);
    expect(minutes[0].startupMs).toEqual({ count: 4, p50: 200, p90: 400, p99: 400, max: 400 });
    expect(minutes[1].startupMs).toBeNull();
    expect(minutes[0].rejections).toEqual({ capacity: 2 });
    expect(minutes[3].rejections).toEqual({ rate_limit: 1 });
    expect(minutes[2].rejections).toEqual({});
  });

  it('keeps the last hour only, and its memory stays flat over a simulated day of minutes', () => {
    const history = new HistoryWindow(T0);
    const sizes: number[] = [];
    for (let minute = 0; minute < 24 * 60; minute++) {
      const now = T0 + minute * MINUTE_MS;
      history.sessionsLive(now, minute % 7);
      for (let i = 0; i < 20; i++) history.startup(now + i, 100 + i);
      history.rejected(now, minute % 2 ? 'capacity' : 'invalid');
      if (minute % 60 === 59) sizes.push(history.size);
    }
    expect(new Set(sizes.slice(1)).size).toBe(1); // flat once the first hour is full
    const { minutes } = history.snapshot(T0 + (24 * 60 - 1) * MINUTE_MS);
    expect(minutes).toHaveLength(WINDOW_MINUTES);
    expect(minutes[0].at).toBe(new Date(T0 + 23 * 60 * MINUTE_MS).toISOString());
    expect(minutes[WINDOW_MINUTES - 1].sessionsLive).toBe((24 * 60 - 1) % 7);
  });

  it('thins a busy minute to a bounded sample and still counts every start-up', () => {
    const history = new HistoryWindow(T0);
    for (let i = 1; i <= 10_000; i++) history.startup(T0 + 1, i);
    const [minute] = history.snapshot(T0 + 2).minutes;
    expect(history.size).toBeLessThanOrEqual(1 + MAX_SAMPLES_PER_MINUTE);
    expect(minute.startupMs!.count).toBe(10_000);
    expect(minute.startupMs!.p50).toBeGreaterThan(4_000);
    expect(minute.startupMs!.p50).toBeLessThan(6_000);
    expect(minute.startupMs!.max).toBeGreaterThan(9_900);
  });

  it('carries the live count over quiet minutes, also past the start of the window', () => {
    const history = new HistoryWindow(T0);
    history.sessionsLive(T0, 4);
    const { minutes } = history.snapshot(T0 + 90 * MINUTE_MS);
    expect(minutes).toHaveLength(WINDOW_MINUTES);
    expect(new Set(minutes.map((m) => m.sessionsLive))).toEqual(new Set([4]));
  });
});
