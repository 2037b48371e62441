import { EventEmitter } from 'events';
import type { Response } from 'express';
import { EventStream, MAX_UNREAD_BYTES } from './event-stream';

/** Just enough of an Express response to watch what the stream writes and when it gives up. */
class FakeResponse extends EventEmitter {
  readonly headers: Record<string, string> = {};
  readonly chunks: string[] = [];
  writableLength = 0;
  writableEnded = false;
  destroyed = false;
  status() {
    return this;
  }
  setHeader(name: string, value: string) {
    this.headers[name.toLowerCase()] = value;
  }
  flushHeaders() {}
  write(chunk: string) {
    this.chunks.push(chunk);
    return true;
  }
  end() {
    this.writableEnded = true;
  }
  destroy() {
    this.destroyed = true;
  }
}

describe('EventStream', () => {
  let response: FakeResponse;
  let stream: EventStream;
  beforeEach(() => {
    jest.useFakeTimers();
    response = new FakeResponse();
    stream = new EventStream(response as unknown as Response, 1000);
  });
  afterEach(() => {
    stream.close();
    jest.useRealTimers();
  });

  it('writes events as data lines and keep-alive comments on the interval', () => {
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    stream.send({ id: 'a', state: 'ready' });
    jest.advanceTimersByTime(2000);
    expect(response.chunks).toEqual([
      ': connected\n\n',
      'data: {"id":"a","state":"ready"}\n\n',
      ': keep-alive\n\n',
      ': keep-alive\n\n',
    ]);
  });

  it('drops a subscriber that stopped reading instead of buffering for it without bound', () => {
    const cleanup = jest.fn();
    stream.onClose(cleanup);
    response.writableLength = MAX_UNREAD_BYTES + 1;
    stream.send({ id: 'a', state: 'ready' });
    expect(response.destroyed).toBe(true);
    expect(cleanup).toHaveBeenCalledTimes(1);
    expect(response.chunks).toEqual([': connected\n\n']);
    jest.advanceTimersByTime(5000);
    expect(response.chunks).toEqual([': connected\n\n']);
  });

  it('cleans up once when the client goes away', () => {
    const cleanup = jest.fn();
    stream.onClose(cleanup);
    response.emit('close');
    response.emit('close');
    stream.close();
    expect(cleanup).toHaveBeenCalledTimes(1);
    expect(jest.getTimerCount()).toBe(0);
  });
});
