import { EventEmitter } from 'events';
import type { Server } from 'http';
import { capConnectionsPerClient, isOwnSource } from './connection-cap';

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

describe('capConnectionsPerClient', () => {
  /** A connection from `remoteAddress`; `destroyed` once the cap dropped it. */
  function connect(server: EventEmitter, remoteAddress: string): { destroyed: boolean; close(): void } {
    const socket = Object.assign(new EventEmitter(), {
      remoteAddress,
      localAddress: '192.0.2.2',
      destroyed: false,
      destroy() {
        socket.destroyed = true;
      },
    });
    server.emit('connection', socket);
    return {
      get destroyed() {
        return socket.destroyed;
      },
      close: () => void socket.emit('close'),
    };
  }

  it('counts an IPv6 client by its /64, an IPv4-mapped one as its IPv4 address; a closed connection frees its place', () => {
    const server = new EventEmitter();
    capConnectionsPerClient(server as unknown as Server, 2, () => false);
    const first = connect(server, '2001:db8:1:2::a');
    expect(connect(server, '2001:db8:1:2::b').destroyed).toBe(false);
    expect(connect(server, '2001:db8:1:2:ffff::c').destroyed).toBe(true);
    expect(connect(server, '2001:db8:1:3::a').destroyed).toBe(false);
    first.close();
    expect(connect(server, '2001:db8:1:2::d').destroyed).toBe(false);
    connect(server, '203.0.113.9');
    connect(server, '::ffff:203.0.113.9');
    expect(connect(server, '203.0.113.9').destroyed).toBe(true);
  });
});
