import { Injectable } from '@nestjs/common';
import { performance } from 'perf_hooks';

/** The time source, injectable so timeout logic can be tested with a fake clock. */
export abstract class Clock {
  abstract now(): number;
}

/**
 * Milliseconds since the epoch that only move forward, at the monotonic clock's pace: the wall clock read once, at
 * start, plus the monotonic time since. A step of the system clock (NTP, an operator's `date -s`, a VM's resume)
 * after start moves neither these times nor any timeout measured with them: read from Date.now(), a step back of an
 * hour left a hung server unnoticed for that hour, and one forward counted as the service having stalled for it.
 */
export function steadyNow(): number {
  return Math.floor(performance.timeOrigin + performance.now());
}

@Injectable()
export class SystemClock extends Clock {
  now(): number {
    return steadyNow();
  }
}
