import { lookup } from 'dns/promises';
import { createServer, type Server } from 'net';
import { holdTwin, twinAddress, twinPortProblem } from './twin-listener';

const listening = (server: Server, options: { port: number; host: string; ipv6Only?: boolean }) =>
  new Promise<number>((resolve) => server.listen(options, () => resolve((server.address() as { port: number }).port)));
const closed = (server: Server) => new Promise((resolve) => server.close(resolve));

describe('twinAddress', () => {
  it('pairs the wildcard and loopback addresses of the two families; a named address or :: has no twin', () => {
    expect(twinAddress('0.0.0.0')).toBe('::');
    expect(twinAddress('127.0.0.1')).toBe('::1');
    expect(twinAddress('::1')).toBe('127.0.0.1');
    // An IPv4 address written as IPv6 is that IPv4 address.
    expect(twinAddress('::ffff:127.0.0.1')).toBe('::1');
    expect(twinAddress('::FFFF:0.0.0.0')).toBe('::');
    for (const address of ['::', '10.0.0.5', 'fd00::2', 'localhost', '::ffff:10.0.0.5']) {
      expect(twinAddress(address)).toBeUndefined();
    }
  });
});

describe('holdTwin and twinPortProblem (real sockets on loopback)', () => {
  it('hands the twin’s connections to the server it serves, and stops with it', async () => {
    const server = createServer((socket) => socket.end('main\n'));
    const port = await listening(server, { port: 0, host: '127.0.0.1' });
    expect(await holdTwin(server, (socket) => server.emit('connection', socket), { name: 'PORT', port })).toBe('::1');
    expect(await twinPortProblem('127.0.0.1', port, 'PORT')).toMatch(/^port \d+ on \[::1\] is already in use/);
    await closed(server);
    expect(await twinPortProblem('127.0.0.1', port, 'PORT')).toBeUndefined();
  });

  it('another program on the twin: a fixed port is refused naming the setting; an ephemeral one goes on without', async () => {
    const holder = createServer();
    const port = await listening(holder, { port: 0, host: '::1', ipv6Only: true });
    const server = createServer();
    try {
      await listening(server, { port, host: '127.0.0.1' });
      await expect(holdTwin(server, () => undefined, { name: 'PORT', port })).rejects.toThrow(
        `port ${port} on [::1] is already in use by another program (PORT), which would answer the clients that ` +
          'reach this port over IPv6: stop it, or set HOST to one address',
      );
      expect(await holdTwin(server, () => undefined, { name: 'PORT', port: 0 })).toBeUndefined();
      expect(await twinPortProblem('127.0.0.1', port, 'PORT')).toMatch(/already in use by another program \(PORT\)/);
      expect(await twinPortProblem('127.0.0.1', 0, 'PORT')).toBeUndefined();
    } finally {
      await Promise.all([closed(server), closed(holder)]);
    }
  });

  it('HOST=localhost: the start-up check looks the name up as listen does and checks that address’s twin', async () => {
    const { address } = await lookup('localhost');
    const twin = twinAddress(address) as string;
    const holder = createServer();
    const port = await listening(holder, { port: 0, host: twin, ipv6Only: twin === '::' });
    try {
      const shown = twin.includes(':') ? `[${twin}]` : twin;
      expect(await twinPortProblem('localhost', port, 'PORT')).toContain(
        `port ${port} on ${shown} is already in use by another program (PORT)`,
      );
    } finally {
      await closed(holder);
    }
    expect(await twinPortProblem('localhost', port, 'PORT')).toBeUndefined();
    expect(await twinPortProblem('no-such-host.invalid', port, 'PORT')).toBeUndefined();
  });

  it('a server on ::ffff:127.0.0.1 holds [::1] too', async () => {
    const server = createServer();
    const port = await listening(server, { port: 0, host: '::ffff:127.0.0.1' });
    try {
      expect(await holdTwin(server, () => undefined, { name: 'PORT', port })).toBe('::1');
      expect(await twinPortProblem('::ffff:127.0.0.1', port, 'PORT')).toMatch(/on \[::1\] is already in use/);
    } finally {
      await closed(server);
    }
  });

  it("::1's twin is 127.0.0.1; :: holds both families in one socket and has none", async () => {
    const server = createServer();
    const port = await listening(server, { port: 0, host: '::1', ipv6Only: true });
    try {
      // ::1's twin is 127.0.0.1, which this holds; on :: (both families in one socket) there is none.
      expect(await holdTwin(server, () => undefined, { name: 'PORT', port })).toBe('127.0.0.1');
    } finally {
      await closed(server);
    }
    const wide = createServer();
    const widePort = await listening(wide, { port: 0, host: '::' });
    try {
      expect(await holdTwin(wide, () => undefined, { name: 'PORT', port: widePort })).toBeUndefined();
    } finally {
      await closed(wide);
    }
  });
});
