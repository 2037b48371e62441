import { REFUSAL_LOG_WINDOW_MS, RefusalLog } from './refusal-log';

describe('RefusalLog', () => {
  it('writes the first refusal of a reason, counts the rest of the window, and says so with the next line', () => {
    const log = new RefusalLog();
    expect(log.decide('slots', 1000)).toEqual({ write: true, notWritten: 0 });
    for (let i = 1; i <= 40; i++) expect(log.decide('slots', 1000 + i * 100)).toEqual({ write: false, notWritten: 0 });
    expect(log.decide('slots', 1000 + REFUSAL_LOG_WINDOW_MS)).toEqual({ write: true, notWritten: 40, since: 1000 });
    expect(log.decide('slots', 1001 + REFUSAL_LOG_WINDOW_MS)).toEqual({ write: false, notWritten: 0 });
  });

  it('keeps each reason apart', () => {
    const log = new RefusalLog();
    expect(log.decide('slots', 0).write).toBe(true);
    expect(log.decide('draining', 10).write).toBe(true);
    expect(log.decide('slots', 20).write).toBe(false);
    expect(log.decide('draining', 30).write).toBe(false);
    expect(log.decide('draining', 10 + REFUSAL_LOG_WINDOW_MS)).toEqual({ write: true, notWritten: 1, since: 10 });
    expect(log.decide('slots', REFUSAL_LOG_WINDOW_MS)).toEqual({ write: true, notWritten: 1, since: 0 });
  });

  it('writes again at once when the clock went back (no line is held back longer than the window)', () => {
    const log = new RefusalLog();
    expect(log.decide('slots', 10_000).write).toBe(true);
    expect(log.decide('slots', 9_000)).toEqual({ write: true, notWritten: 0 });
  });
});
