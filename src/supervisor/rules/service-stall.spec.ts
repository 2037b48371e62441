import { type Stall, stalledBetween, withStall } from './service-stall';

/** An hour of stalls, one every 3.6 s, each 1.5 s long, the last at 3,600,000. */
const hourOfStalls = (): Stall[] => Array.from({ length: 1000 }, (_, i) => ({ at: (i + 1) * 3600, ms: 1500 }));

/** The stalls, counting how many of them a call reads. */
function counted(stalls: Stall[]): { stalls: readonly Stall[]; reads: () => number } {
  let reads = 0;
  const proxy = new Proxy(stalls, {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  return { stalls: proxy, reads: () => reads };
}

describe('stalledBetween (pure)', () => {
  it('sums the stalls found after `from` up to `now`, the first one cut at `from`', () => {
    const stalls = hourOfStalls();
    expect(stalledBetween(stalls, 0, 3_600_000)).toBe(1_500_000);
    expect(stalledBetween(stalls, 3_596_400, 3_600_000)).toBe(1500);
    expect(stalledBetween(stalls, 3_599_000, 3_600_000)).toBe(1000);
    expect(stalledBetween(stalls, 3_600_000, 3_700_000)).toBe(0);
    expect(stalledBetween(stalls, 3_590_000, 3_597_000)).toBe(1500 + 1500);
    expect(stalledBetween([], 0, 1000)).toBe(0);
  });

  it('reads only the stalls after `from`, not the whole hour (1,000 spawns x 1,000 stalls held each sweep 2 ms)', () => {
    const { stalls, reads } = counted(hourOfStalls());
    expect(stalledBetween(stalls, 3_590_000, 3_600_000)).toBe(3 * 1500);
    expect(reads()).toBeLessThanOrEqual(20 + 4);
  });
});

describe('withStall (pure)', () => {
  it('keeps the last hour, at most 1,000, in time order even after the clock stepped back', () => {
    const hour = hourOfStalls();
    expect(withStall(hour, { at: 3_603_600, ms: 1200 })).toEqual([...hour.slice(1), { at: 3_603_600, ms: 1200 }]);
    expect(withStall(hour, { at: 3_700_000, ms: 1200 })[0]).toEqual({ at: 100_800, ms: 1500 });
    const afterStepBack = withStall(hour, { at: 1_000_000, ms: 2000 });
    expect(afterStepBack.map((s) => s.at)).toEqual([
      ...hour.filter((s) => s.at < 1_000_000).map((s) => s.at),
      1_000_000,
    ]);
  });
});
