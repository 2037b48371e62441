import type { IncomingMessage } from 'http';
import { invalidHandshake, offersWebSocket, proxiedSessionId } from './ws-handshake';
import { acceptFor } from './ws-upstream';

function request(method: string, headers: Record<string, string>, version = '1.1'): IncomingMessage {
  const [httpVersionMajor, httpVersionMinor] = version.split('.').map(Number);
  return { method, headers, httpVersionMajor, httpVersionMinor } as unknown as IncomingMessage;
}

const VALID = {
  host: 'node.example:11182',
  upgrade: 'websocket',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'sec-websocket-version': '13',
};

describe('proxiedSessionId', () => {
  it.each([
    ['/ws/3f1c2a4e-8d0b-4c53-9a7e-2b6f0d9e1c11', '3f1c2a4e-8d0b-4c53-9a7e-2b6f0d9e1c11'],
    ['/ws/abc/', 'abc'],
    ['/ws/abc?token=1', 'abc'],
    ['/ws/a%20b', 'a b'],
  ])('%s -> %s', (url, id) => expect(proxiedSessionId(url)).toBe(id));

  it.each([undefined, '/', '/ws', '/ws/', '/ws/a/b', '/wsx/abc', '/api/ws/abc', '/ws/%E0%A4%A', '/ws/a%2Fb'])(
    '%s is not a proxy path',
    (url) => expect(proxiedSessionId(url)).toBeNull(),
  );
});

describe('invalidHandshake', () => {
  it('accepts a proper WebSocket handshake, with or without subprotocols', () => {
    expect(invalidHandshake(request('GET', VALID))).toBeUndefined();
    expect(invalidHandshake(request('GET', { ...VALID, 'sec-websocket-protocol': 'a, b.c' }))).toBeUndefined();
  });

  it.each([
    ['POST', VALID, 405],
    ['GET', { ...VALID, upgrade: 'h2c' }, 400],
    ['GET', { ...VALID, 'sec-websocket-key': 'short' }, 400],
    ['GET', { ...VALID, 'sec-websocket-version': '12' }, 400],
    ['GET', { ...VALID, 'sec-websocket-protocol': 'a, a' }, 400],
    ['GET', { ...VALID, 'sec-websocket-protocol': 'bad protocol' }, 400],
  ])('%s %j -> %d', (method, headers, status) =>
    expect(invalidHandshake(request(method, headers))?.status).toBe(status),
  );

  it('refuses a handshake without Host, and one over HTTP/1.0 (RFC 6455 §4.1); an empty Host is no name', () => {
    const { host: _host, ...withoutHost } = VALID;
    expect(invalidHandshake(request('GET', withoutHost))).toEqual({
      status: 400,
      message: 'a WebSocket handshake must name the server in Host',
    });
    expect(invalidHandshake(request('GET', { ...VALID, host: '' }))?.status).toBe(400);
    expect(invalidHandshake(request('GET', VALID, '1.0'))?.message).toMatch(/must be HTTP\/1\.1/);
  });
});

describe('offersWebSocket', () => {
  it.each(['websocket', 'WebSocket', 'h2c, websocket'])('%s offers it', (upgrade) =>
    expect(offersWebSocket(upgrade)).toBe(true),
  );
  it.each([undefined, '', 'h2c', 'TLS/1.0', 'websocketx'])('%s does not', (upgrade) =>
    expect(offersWebSocket(upgrade)).toBe(false),
  );
});

describe('acceptFor', () => {
  it('is the RFC 6455 example', () =>
    expect(acceptFor('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo='));
});
