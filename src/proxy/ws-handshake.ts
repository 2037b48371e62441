import type { IncomingMessage } from 'http';
import type { UpstreamSocket } from './ws-upstream';

const WS_PATH = /^\/ws\/([^/]+)\/?$/;
const WS_KEY = /^[+/0-9A-Za-z]{22}==$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The session id of a proxy path (`/ws/<id>`, query string allowed); null for any other path. */
export function proxiedSessionId(url: string | undefined): string | null {
  if (!url) return null;
  const path = url.split('?', 1)[0];
  const match = WS_PATH.exec(path);
  if (!match) return null;
  try {
    const id = decodeURIComponent(match[1]);
    return id.length > 0 && !id.includes('/') ? id : null;
  } catch {
    return null;
  }
}

/**
 * Whether an Upgrade header offers WebSocket. Any other upgrade (`h2c`, which `curl --http2` and Java's HttpClient
 * send on http:// URLs) is an ordinary request here, answered as if it asked for none, as RFC 9110 §7.8 allows.
 */
export function offersWebSocket(upgrade: string | undefined): boolean {
  return String(upgrade ?? '')
    .split(',')
    .some((protocol) => protocol.trim().toLowerCase() === 'websocket');
}

/** Why a handshake request is not a valid WebSocket upgrade (checked before the server is bothered), or undefined. */
export function invalidHandshake(req: IncomingMessage): { status: number; message: string } | undefined {
  if (req.method !== 'GET') return { status: 405, message: 'a WebSocket handshake must be a GET request' };
  // Node answers an ordinary HTTP/1.1 request without Host with 400 itself, but hands an upgrade over as it came.
  if (req.httpVersionMajor === 1 && req.httpVersionMinor === 0)
    return { status: 400, message: 'a WebSocket handshake must be HTTP/1.1 (RFC 6455 §4.1)' };
  if (!req.headers.host) return { status: 400, message: 'a WebSocket handshake must name the server in Host' };
  if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket')
    return { status: 400, message: 'Upgrade: websocket expected' };
  if (!WS_KEY.test(String(req.headers['sec-websocket-key'] ?? '')))
    return { status: 400, message: 'missing or invalid Sec-WebSocket-Key' };
  const version = String(req.headers['sec-websocket-version'] ?? '');
  if (version !== '13' && version !== '8') return { status: 400, message: 'Sec-WebSocket-Version must be 13' };
  const protocols = req.headers['sec-websocket-protocol'];
  if (protocols !== undefined) {
    const list = protocols.split(',').map((p) => p.trim());
    if (list.some((p) => !TOKEN.test(p)) || new Set(list).size !== list.length)
      return { status: 400, message: 'invalid Sec-WebSocket-Protocol' };
  }
  return undefined;
}

/** The 101 response for the viewer, relaying what the server agreed to (accept key, subprotocol, extensions). */
export function switchingProtocols(upstream: UpstreamSocket): string {
  const lines = [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${upstream.headers['sec-websocket-accept']}`,
  ];
  for (const [name, header] of [
    ['Sec-WebSocket-Protocol', 'sec-websocket-protocol'],
    ['Sec-WebSocket-Extensions', 'sec-websocket-extensions'],
  ] as const) {
    const value = upstream.headers[header];
    if (value) lines.push(`${name}: ${value}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}
