import { Injectable } from '@nestjs/common';
import { performance } from 'perf_hooks';

/** The time source, injectable so timeout logic can be tested with a fake clock. */
export abstract class Clock {
  /** Milliseconds that a step of the system clock does not move: every time kept, compared or waited for. */
  abstract now(): number;

  /** A time of now()'s, as the date it is shown as: every time shifted by the same amount at one moment. */
  toDate(t: number): Date {
    return new Date(t);
  }
}

/**
 * Milliseconds since the epoch that only move forward, at the monotonic clock's pace: the wall clock read once, at
 * start, plus the monotonic time since. A step of the system clock (NTP, an operator's `date -s`, a VM's resume)
 * after start moves no timeout measured with them: read from Date.now(), a step back of an hour left a hung server
 * unnoticed for that hour, and one forward counted as the service having stalled for it.
 */
export function steadyNow(): number {
  return Math.floor(performance.timeOrigin + performance.now());
}

/** A steadyNow() time as a date on the system clock as it is set now (after a step, past times move with it). */
export function steadyToDate(t: number): Date {
  return new Date(t + Date.now() - steadyNow());
}

@Injectable()
export class SystemClock extends Clock {
  now(): number {
    return steadyNow();
  }

  override toDate(t: number): Date {
    return steadyToDate(t);
  }
}
