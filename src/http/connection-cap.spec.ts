import { isOwnSource } from './connection-cap';

describe('isOwnSource (exempt from MAX_CONNECTIONS_PER_CLIENT)', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['127.0.0.1', '127.0.1.1'], // HOST=127.0.1.1: the kernel connects from 127.0.0.1
    ['::ffff:127.0.0.1', '::ffff:127.0.0.1'], // a dual-stack listener
    ['::1', '::1'],
    ['192.0.2.2', '192.0.2.2'], // HOST=<an interface's address>: the servers connect from it
  ])('%s connecting to %s: this machine, exempt', (remote, local) => {
    expect(isOwnSource(remote, local)).toBe(true);
  });

  it.each([
    ['127.0.0.2', '127.0.0.1'], // another loopback address: a client like any other
    ['192.0.2.7', '192.0.2.2'],
    ['127.0.0.1', '192.0.2.2'],
    ['10.0.0.1', undefined],
  ])('%s connecting to %s: capped', (remote, local) => {
    expect(isOwnSource(remote, local)).toBe(false);
  });
});
