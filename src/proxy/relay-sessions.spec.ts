/** RelaySessions with real sockets: a viewer (ws), the relay, and a stand-in for the session's server. */
import { Logger } from '@nestjs/common';
import * as http from 'http';
import type { AddressInfo, Socket } from 'net';
import { WebSocket } from 'ws';
import type { EdgeSettings, ServersSettings } from '../config';
import type { SupervisorService } from '../supervisor';
import { RelaySessions } from './relay-sessions';
import type { TunnelRunner } from './tunnel-runner';
import { acceptFor } from './ws-upstream';
import { WsTunnel } from './ws-tunnel';

async function listening(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Tunnels in this process (no relay process is started). */
const inProcess = {
  open: (viewer: Socket, viewerHead: Buffer, server: Socket, serverHead: Buffer, options) => {
    const tunnel = new WsTunnel(viewer, server, options);
    tunnel.start(viewerHead, serverHead);
    return tunnel;
  },
} as Pick<TunnelRunner, 'open'> as TunnelRunner;

beforeAll(() => Logger.overrideLogger(false));

describe('RelaySessions', () => {
  const sockets = new Set<Socket>();
  const servers: http.Server[] = [];
  const viewers: WebSocket[] = [];
  afterEach(async () => {
    for (const viewer of viewers.splice(0)) viewer.terminate();
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  async function serve(onUpgrade: (req: http.IncomingMessage, socket: Socket, head: Buffer) => void) {
    const server = http.createServer();
    server.on('connection', (socket) => sockets.add(socket));
    server.on('upgrade', onUpgrade);
    servers.push(server);
    return listening(server);
  }

  it('a session stopped with a code while its viewer joins: the viewer gets that code, not its server going away', async () => {
    let asked!: () => void;
    const handshake = new Promise<void>((resolve) => (asked = resolve));
    let answer: (() => void) | undefined;
    const wsPort = await serve((req, socket) => {
      answer = () => {
        const accept = acceptFor(String(req.headers['sec-websocket-key']));
        const goingAway = Buffer.from([0x88, 0x02, 0x03, 0xe9]); // the server's own close, 1001, behind its 101
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`);
        socket.write(`Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
        socket.write(goingAway);
      };
      asked();
    });
    const supervisor = {
      isShuttingDown: false,
      get: () => ({ id: 's1', state: 'ready', spec: { wsPort } }),
      viewerAttached: jest.fn(),
      viewerDetached: jest.fn(),
      countViewerBytes: jest.fn(),
      stop: jest.fn(),
    } as unknown as SupervisorService;
    const relay = new RelaySessions(
      supervisor,
      { firstMessageTimeoutS: 60 } as EdgeSettings,
      { serversUseTls: false } as ServersSettings,
      inProcess,
    );
    let viewerSide: Socket | undefined;
    const port = await serve((req, socket, head) => {
      viewerSide = socket;
      relay.admit('s1', req, socket, head);
    });
    const viewer = new WebSocket(`ws://127.0.0.1:${port}/ws/token`);
    viewers.push(viewer);
    const closed = new Promise<[number, string]>((resolve) =>
      viewer.on('close', (code, reason) => resolve([code, reason.toString()])),
    );
    await handshake;
    relay.closeViewer('s1', 4003, 'stopped by operator');
    answer!();
    expect(await closed).toEqual([4003, 'stopped by operator']);
    expect(relay.activeCount).toBe(0);
    // Its closing handshake done, the viewer's connection goes at once (not after the 2 s grace).
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(viewerSide!.destroyed).toBe(true);
  });
});
