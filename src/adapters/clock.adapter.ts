import { Injectable } from '@nestjs/common';

/** The time source, injectable so timeout logic can be tested with a fake clock. */
export abstract class Clock {
  abstract now(): number;
}

@Injectable()
export class SystemClock extends Clock {
  now(): number {
    return Date.now();
  }
}
