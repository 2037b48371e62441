import { Logger } from '@nestjs/common';
import { EventEmitter } from 'events';
import { ShutdownSignals } from './shutdown-signals';

beforeAll(() => Logger.overrideLogger(false));

/** Actions that record what happened; drain and close finish when the test says so. */
function harness(drainTimeoutS: number) {
  const calls: string[] = [];
  let endDrain!: () => void;
  let endClose!: (error?: Error) => void;
  const source = new EventEmitter();
  const signals = new ShutdownSignals(
    {
      drain: () => {
        calls.push('drain');
        return new Promise<void>((resolve) => (endDrain = resolve));
      },
      close: () => {
        calls.push('close');
        return new Promise<void>((resolve, reject) => (endClose = (error) => (error ? reject(error) : resolve())));
      },
      exit: (code) => calls.push(`exit ${code}`),
    },
    drainTimeoutS,
  );
  signals.listen(source);
  const flush = () => new Promise((resolve) => setImmediate(resolve));
  return { calls, source, flush, endDrain: () => endDrain(), endClose: (error?: Error) => endClose(error) };
}

describe('ShutdownSignals', () => {
  it('without a drain timeout SIGTERM closes at once and exits 0 (as before)', async () => {
    const h = harness(0);
    h.source.emit('SIGTERM');
    expect(h.calls).toEqual(['close']);
    h.endClose();
    await h.flush();
    expect(h.calls).toEqual(['close', 'exit 0']);
  });

  it('with a drain timeout SIGTERM drains, then closes once the drain is over, then exits 0', async () => {
    const h = harness(30);
    h.source.emit('SIGTERM');
    await h.flush();
    expect(h.calls).toEqual(['drain']);
    h.endDrain();
    await h.flush();
    expect(h.calls).toEqual(['drain', 'close']);
    h.endClose();
    await h.flush();
    expect(h.calls).toEqual(['drain', 'close', 'exit 0']);
  });

  it.each(['SIGTERM', 'SIGINT'])('a second signal (%s) during the drain closes at once, once', async (second) => {
    const h = harness(30);
    h.source.emit('SIGTERM');
    h.source.emit(second);
    expect(h.calls).toEqual(['drain', 'close']);
    h.source.emit('SIGTERM');
    h.endDrain(); // the drain ending later does not close again
    h.endClose();
    await h.flush();
    expect(h.calls).toEqual(['drain', 'close', 'exit 0']);
  });

  it('SIGINT first closes at once even with a drain timeout', () => {
    const h = harness(30);
    h.source.emit('SIGINT');
    expect(h.calls).toEqual(['close']);
  });

  it('a failed close exits 1', async () => {
    const h = harness(0);
    h.source.emit('SIGTERM');
    h.endClose(new Error('boom'));
    await h.flush();
    expect(h.calls).toEqual(['close', 'exit 1']);
  });
});
