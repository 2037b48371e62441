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
});
