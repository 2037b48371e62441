import { SystemClock } from './clock.adapter';

const HOUR_MS = 3_600_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SystemClock', () => {
  afterEach(() => jest.restoreAllMocks());

  it('tells the wall time', () => {
    expect(Math.abs(new SystemClock().now() - Date.now())).toBeLessThan(50);
  });

  it('runs on at the monotonic pace when the wall clock steps back an hour, and never goes back', async () => {
    const clock = new SystemClock();
    const before = clock.now();
    const wall = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => wall - HOUR_MS);
    await sleep(50);
    const elapsed = clock.now() - before;
    expect(elapsed).toBeGreaterThanOrEqual(45);
    expect(elapsed).toBeLessThan(1000);
  });

  it('shows its times as dates on the system clock as it is set now, a step included', () => {
    const clock = new SystemClock();
    const t = clock.now();
    expect(Math.abs(clock.toDate(t).getTime() - Date.now())).toBeLessThan(50);
    const wall = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => wall - HOUR_MS);
    expect(Math.abs(clock.toDate(t).getTime() - (wall - HOUR_MS))).toBeLessThan(50);
  });
});
