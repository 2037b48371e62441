import * as http from 'http';
import type { AddressInfo, Socket } from 'net';
import { acceptFor, openUpstream, UpstreamError } from './ws-upstream';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** A stand-in for the session's server: `onUpgrade` answers each handshake however the test wants. */
async function server(
  onUpgrade: (req: http.IncomingMessage, socket: Socket) => void,
): Promise<{ port: number; close(): Promise<void>; requests: http.IncomingMessage[] }> {
  const requests: http.IncomingMessage[] = [];
  const sockets = new Set<Socket>();
  const srv = http.createServer();
  srv.on('connection', (s) => sockets.add(s));
  srv.on('upgrade', (req, socket: Socket) => {
    requests.push(req);
    onUpgrade(req, socket);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as AddressInfo).port,
    requests,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => srv.close(() => resolve()));
    },
  };
}

function viewerRequest(headers: Record<string, string> = {}): http.IncomingMessage {
  return {
    headers: { upgrade: 'websocket', 'sec-websocket-key': KEY, 'sec-websocket-version': '13', ...headers },
    socket: { remoteAddress: '203.0.113.7' },
  } as unknown as http.IncomingMessage;
}

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof UpstreamError) return error;
    throw error;
  }
  throw new Error('expected an UpstreamError');
}

describe('openUpstream', () => {
  it("relays the viewer's key, subprotocols and origin; resolves with the paused socket and the bytes after the 101", async () => {
    const fake = await server((req, socket) => {
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(String(req.headers['sec-websocket-key']))}\r\nSec-WebSocket-Protocol: b\r\n\r\n`,
      );
      socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69])); // text frame "hi", right behind the 101
    });
    try {
      const attempt = openUpstream({
        port: fake.port,
        tls: false,
        path: '/?x=1',
        viewer: viewerRequest({ 'sec-websocket-protocol': 'a, b', origin: 'http://viewer.example' }),
        timeoutMs: 2000,
      });
      const upstream = await attempt.result;
      expect(upstream.headers['sec-websocket-protocol']).toBe('b');
      const { url, headers } = fake.requests[0];
      expect(url).toBe('/?x=1');
      expect(headers).toMatchObject({
        'sec-websocket-key': KEY,
        'sec-websocket-protocol': 'a, b',
        origin: 'http://viewer.example',
        'x-forwarded-for': '203.0.113.7',
      });
      // The frame may have come with the 101 (head) or be waiting on the paused socket.
      const rest =
        upstream.head.length >= 4
          ? upstream.head
          : Buffer.concat([
              upstream.head,
              await new Promise<Buffer>((resolve) => upstream.socket.once('data', resolve).resume()),
            ]);
      expect(rest.subarray(0, 4)).toEqual(Buffer.from([0x81, 0x02, 0x68, 0x69]));
      upstream.socket.destroy();
    } finally {
      await fake.close();
    }
  });

  it("passes the server's 409 on, and answers 502 for any other refusal or a wrong accept key", async () => {
    for (const [answer, status] of [
      ['HTTP/1.1 409 Conflict\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', 409],
      ['HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', 502],
      [
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bogus\r\n\r\n',
        502,
      ],
    ] as const) {
      const fake = await server((_req, socket) => socket.end(answer));
      try {
        const error = await failure(
          openUpstream({ port: fake.port, tls: false, path: '/', viewer: viewerRequest(), timeoutMs: 2000 }).result,
        );
        expect(error.status).toBe(status);
      } finally {
        await fake.close();
      }
    }
  });

  it('502 when nothing listens; 504 when the server does not answer in time', async () => {
    const fake = await server(() => undefined); // accepts the connection, never answers
    const { port } = fake;
    try {
      expect(
        (await failure(openUpstream({ port, tls: false, path: '/', viewer: viewerRequest(), timeoutMs: 200 }).result))
          .status,
      ).toBe(504);
    } finally {
      await fake.close();
    }
    expect(
      (await failure(openUpstream({ port, tls: false, path: '/', viewer: viewerRequest(), timeoutMs: 2000 }).result))
        .status,
    ).toBe(502);
  });
});
