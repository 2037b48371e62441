/**
 * The relay process: the service forks it once and hands it each viewer's tunnel (both sockets, past their
 * handshakes) over IPC; it runs the tunnels (WsTunnel, as the service would) and reports counts, flow and closes.
 * It exists for its heap: relaying allocates a buffer per socket read, and V8 collects that garbage with full
 * collections whose cost grows with the live heap. In the service (a ~30 MiB heap of Nest, routes and metrics)
 * that cost a quarter of the relay's throughput; here the heap is a few MiB. The relay also stops sharing the
 * service's event loop, so heavy traffic cannot delay a health check. It imports nothing of Nest.
 */
import type { Socket } from 'net';
import { RelayReporter } from './relay-reporter';
import type { FromRelayWorker, ToRelayWorker } from './relay-worker.protocol';
import { WsTunnel } from './ws-tunnel';

type ViewerHalf = { socket: Socket; head: Buffer };

/** A report the service can no longer take (it is exiting) is dropped: the callback keeps EPIPE from being thrown. */
function send(message: FromRelayWorker): void {
  if (process.connected) process.send!(message, undefined, {}, () => undefined);
}

const viewers = new Map<number, ViewerHalf>();
const tunnels = new Map<number, RelayReporter>();

function startTunnel(message: Extract<ToRelayWorker, { type: 'server' }>, server: Socket): void {
  const viewer = viewers.get(message.id);
  viewers.delete(message.id);
  if (!viewer) {
    server.destroy();
    return send({ type: 'closed', id: message.id, close: { initiator: 'viewer', code: 1006, clean: false } });
  }
  const reporter = new RelayReporter(message.id, send);
  tunnels.set(message.id, reporter);
  const tunnel = new WsTunnel(viewer.socket, server, {
    highWaterMark: message.highWaterMark,
    closeGraceMs: message.closeGraceMs,
    onBytes: (direction, bytes, messages) => reporter.count(direction, bytes, messages),
    onFlowChange: () => reporter.schedule(true),
    onError: (side, error) => send({ type: 'error', id: message.id, side, message: error.message }),
    onClosed: (close) => {
      reporter.flush();
      tunnels.delete(message.id);
      send({ type: 'closed', id: message.id, close });
    },
  });
  reporter.tunnel = tunnel;
  tunnel.start(viewer.head, Buffer.from(message.head));
}

/** A socket that closed on its way here arrives as no handle: the tunnel is over before it began. */
function lost(id: number, side: 'viewer' | 'server'): void {
  viewers.get(id)?.socket.destroy();
  viewers.delete(id);
  send({ type: 'closed', id, close: { initiator: side, code: 1006, clean: false } });
}

process.on('message', (message: ToRelayWorker, socket?: Socket) => {
  switch (message.type) {
    case 'viewer':
      if (!socket) return lost(message.id, 'viewer');
      // Until its tunnel listens, a reset (ECONNRESET) must not be an uncaught error that ends every tunnel here.
      socket.on('error', () => undefined);
      socket.allowHalfOpen = message.allowHalfOpen;
      socket.pause();
      viewers.set(message.id, { socket, head: Buffer.from(message.head) });
      return;
    case 'server':
      if (!socket) return lost(message.id, 'server');
      socket.on('error', () => undefined);
      socket.allowHalfOpen = message.allowHalfOpen;
      socket.pause();
      return startTunnel(message, socket);
    case 'close':
      void tunnels.get(message.id)?.tunnel?.close(message.code, message.reason);
      return;
    case 'ping':
      return send({ type: 'pong', seq: message.seq });
    case 'terminate':
      tunnels.get(message.id)?.tunnel?.terminate();
      if (viewers.has(message.id)) lost(message.id, 'viewer');
      return;
  }
});

// The service is gone (it exited, or it stopped us): its viewers' connections go with it.
process.on('disconnect', () => process.exit(0));
// It shares the service's process group: a Ctrl-C, a hang-up or a group SIGTERM is the service's to handle (it
// closes the tunnels with 1001 first, then the channel, which ends this process).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) process.on(signal, () => undefined);
send({ type: 'ready' });
