import { connect, createServer, type Socket } from 'net';
import { closeFrame } from './frame-tracker';
import { CLOSE_CONNECTION_LOST, type TunnelClose, WsTunnel } from './ws-tunnel';

/** Two ends of one loopback TCP connection: `near` for the tunnel, `far` for the test playing viewer or server. */
async function connection(): Promise<{ near: Socket; far: Socket }> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
  const far = connect((listener.address() as { port: number }).port, '127.0.0.1');
  const near = await accepted;
  listener.close(); // no new connection; its callback would wait for this one to end
  near.pause();
  return { near, far };
}

/** The close code in the first close frame of `bytes` (frames of at most 125 bytes, masked or not). */
function closeCodeIn(bytes: Buffer): number | undefined {
  for (let at = 0; at + 2 <= bytes.length;) {
    const masked = (bytes[at + 1] & 0x80) !== 0;
    const length = bytes[at + 1] & 0x7f;
    const payload = at + 2 + (masked ? 4 : 0);
    if ((bytes[at] & 0x0f) === 0x8) {
      const code = Buffer.from(bytes.subarray(payload, payload + 2));
      if (masked) for (let i = 0; i < 2; i++) code[i] ^= bytes[at + 2 + i];
      return code.readUInt16BE(0);
    }
    at = payload + length;
  }
  return undefined;
}

describe('WsTunnel: who closed', () => {
  const sockets: Socket[] = [];
  afterEach(() => sockets.splice(0).forEach((socket) => socket.destroy()));

  async function tunnel(): Promise<{ viewer: Socket; server: Socket; closed: Promise<TunnelClose> }> {
    const [viewer, server] = [await connection(), await connection()];
    sockets.push(viewer.near, viewer.far, server.near, server.far);
    let closed!: (close: TunnelClose) => void;
    const done = new Promise<TunnelClose>((resolve) => (closed = resolve));
    const options = { highWaterMark: 1 << 20, closeGraceMs: 2000, onBytes: () => undefined, onClosed: closed };
    new WsTunnel(viewer.near, server.near, options).start(Buffer.alloc(0), Buffer.alloc(0));
    return { viewer: viewer.far, server: server.far, closed: done };
  }

  it("names the viewer whose connection dropped, though its server answers the proxy's 1011 with a close frame", async () => {
    const { viewer, server, closed } = await tunnel();
    const toServer: Buffer[] = [];
    server.on('data', (chunk: Buffer) => {
      toServer.push(chunk);
      // As a WebSocket server does: a close frame is answered with one (unmasked), then the connection ends.
      if (closeCodeIn(chunk) !== undefined) server.end(closeFrame(CLOSE_CONNECTION_LOST, 'echo', false));
    });
    viewer.end();

    expect(await closed).toEqual({ initiator: 'viewer', code: 1006, clean: false });
    expect(closeCodeIn(Buffer.concat(toServer))).toBe(CLOSE_CONNECTION_LOST);
  });

  it('names the server that closed first with its code, though the viewer answers it', async () => {
    const { viewer, server, closed } = await tunnel();
    viewer.on('data', (chunk: Buffer) => {
      if (closeCodeIn(chunk) !== undefined) viewer.end(closeFrame(1000, '', true));
    });
    server.on('data', () => server.end());
    server.write(closeFrame(4001, 'session over', false));

    expect(await closed).toEqual({ initiator: 'server', code: 4001, clean: true });
  });
});
