import { NoCapacityError } from './supervisor.errors';

describe('NoCapacityError', () => {
  it('is an Error without a stack trace (an expected answer, made a thousand times a second under a storm)', () => {
    const limit = Error.stackTraceLimit;
    const error = new NoCapacityError('slots', 'all 4 spawn slots are in use');
    expect(error).toBeInstanceOf(Error);
    expect(error.reason).toBe('slots');
    expect(error.stack).toBe('NoCapacityError: all 4 spawn slots are in use');
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new Error('other').stack).toMatch(/\n\s+at /); // other errors keep theirs
  });
});
