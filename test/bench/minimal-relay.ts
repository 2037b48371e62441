/**
 * The smallest WebSocket relay Node.js can be, the relay bench's floor for any relay written in Node: a TCP
 * listener on 127.0.0.1 that pipes each connection to the session's server port and back (the handshake and every
 * frame go through as bytes; `pipe` gives backpressure). No frame reading, no counting, no logging, and a heap of
 * its own a few MiB small, so its garbage collections cost next to nothing.
 * Run: node -r ts-node/register test/bench/minimal-relay.ts <upstreamPort> (prints its port).
 */
import * as net from 'net';

const upstreamPort = Number(process.argv[2]);

const server = net.createServer((viewer) => {
  const upstream = net.connect(upstreamPort, '127.0.0.1');
  for (const socket of [viewer, upstream]) {
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
  }
  viewer.pipe(upstream);
  upstream.pipe(viewer);
  viewer.on('close', () => upstream.destroy());
  upstream.on('close', () => viewer.destroy());
});
server.listen(0, '127.0.0.1', () => console.log((server.address() as net.AddressInfo).port));
