import { EventEmitter } from 'events';
import type { Response } from 'express';
import { abortOnClientGone, whenAnswerLost } from './abort-on-client-gone';

/** What abortOnClientGone reads of a response: its socket, and whether the answer was written out. */
function fakeResponse() {
  const response = Object.assign(new EventEmitter(), {
    destroyed: false,
    writableFinished: false,
    socket: { destroyed: false },
  });
  return { response, signal: abortOnClientGone(response as unknown as Response) };
}

describe('abortOnClientGone', () => {
  it('closed before the answer was written out (ended into a reset connection): aborted', () => {
    const { response, signal } = fakeResponse();
    response.emit('close');
    expect(signal.aborted).toBe(true);
  });

  it('closed once the answer was written out: not aborted', () => {
    const { response, signal } = fakeResponse();
    response.writableFinished = true;
    response.emit('close');
    expect(signal.aborted).toBe(false);
  });

  it('a client already gone when asked: aborted at once', () => {
    const response = { destroyed: false, writableFinished: false, socket: { destroyed: true }, on: jest.fn() };
    expect(abortOnClientGone(response as unknown as Response).aborted).toBe(true);
  });
});

describe('whenAnswerLost', () => {
  it('acts once on the abort, or at once when it came first; never without one', () => {
    const later = new AbortController();
    const first = new AbortController();
    first.abort();
    const never = new AbortController();
    const acts = { later: 0, first: 0, never: 0 };
    whenAnswerLost(later.signal, () => acts.later++);
    whenAnswerLost(first.signal, () => acts.first++);
    whenAnswerLost(never.signal, () => acts.never++);
    later.abort();
    later.abort();
    expect(acts).toEqual({ later: 1, first: 1, never: 0 });
  });
});
