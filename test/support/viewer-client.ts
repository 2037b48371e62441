import { WebSocket, type RawData } from 'ws';
import { defaultCleanup, type Cleanup } from './processes';
import { withTimeout } from './wait';

export interface ViewerMessage {
  data: Buffer;
  isBinary: boolean;
  /** The data as UTF-8 text (meaningful for text messages). */
  text: string;
}

export interface ViewerClose {
  code: number;
  reason: string;
}

/** A test stand-in for the HOOPS Web Viewer's WebSocket to a Stream Cache Server. */
export interface ViewerClient {
  readonly ws: WebSocket;
  /** Every message received, in order. */
  readonly messages: ViewerMessage[];
  /** The next message not yet returned by next()/nextJson() (possibly one already received). */
  next(timeoutMs?: number): Promise<ViewerMessage>;
  nextJson<T = Record<string, unknown>>(timeoutMs?: number): Promise<T>;
  send(data: string | Buffer): Promise<void>;
  /** Resolves when the socket has closed, with the close code and reason. */
  readonly closed: Promise<ViewerClose>;
  /** Closes (normal closure by default) and waits for the close to complete. */
  close(code?: number, reason?: string, timeoutMs?: number): Promise<ViewerClose>;
}

/** The server refused the WebSocket handshake with an HTTP status (e.g. 409 when it already has a viewer). */
export class ViewerRefusedError extends Error {
  override readonly name = 'ViewerRefusedError';
  constructor(readonly status: number) {
    super(`WebSocket handshake refused with HTTP ${status}`);
  }
}

/**
 * Opens a WebSocket to `url` (e.g. ws://127.0.0.1:<port>) and resolves once it is open.
 * Rejects with ViewerRefusedError when the server answers the handshake with an HTTP status,
 * or with the connection error. The socket is terminated at cleanup if still open.
 */
export function connectViewer(
  url: string,
  options: { cleanup?: Cleanup; timeoutMs?: number } = {},
): Promise<ViewerClient> {
  const ws = new WebSocket(url, { maxPayload: 256 * 1024 * 1024, perMessageDeflate: false });
  ws.on('error', () => undefined); // reported through the promise below or through `closed`
  const messages: ViewerMessage[] = [];
  const waiters: Array<() => void> = [];
  let readIndex = 0;

  const closed = new Promise<ViewerClose>((resolve) => {
    ws.once('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      for (const wake of waiters.splice(0)) wake();
    });
  });
  (options.cleanup ?? defaultCleanup).add(async () => {
    if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
    await withTimeout(closed, 5000, 'viewer socket to close');
  }, `viewer socket to ${url}`);

  ws.on('message', (data: RawData, isBinary: boolean) => {
    const buffer = toBuffer(data);
    messages.push({ data: buffer, isBinary, text: buffer.toString('utf8') });
    for (const wake of waiters.splice(0)) wake();
  });

  const next = async (timeoutMs = 5000): Promise<ViewerMessage> => {
    if (readIndex < messages.length) return messages[readIndex++];
    if (ws.readyState === WebSocket.CLOSED) throw new Error('viewer socket closed: no more messages');
    await withTimeout(
      new Promise<void>((resolve) => waiters.push(resolve)),
      timeoutMs,
      'a message from the Stream Cache Server',
    );
    return next(0);
  };

  const client: ViewerClient = {
    ws,
    messages,
    next,
    nextJson: async <T>(timeoutMs?: number) => JSON.parse((await next(timeoutMs)).text) as T,
    send: (data) =>
      new Promise<void>((resolve, reject) =>
        ws.send(data, { binary: Buffer.isBuffer(data) }, (error) => (error ? reject(error) : resolve())),
      ),
    closed,
    close: (code = 1000, reason = '', timeoutMs = 5000) => {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, reason);
      return withTimeout(closed, timeoutMs, 'viewer socket to close');
    },
  };

  return withTimeout(
    new Promise<ViewerClient>((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        reject(new ViewerRefusedError(res.statusCode ?? 0));
        ws.terminate();
      });
      ws.once('error', reject);
    }),
    options.timeoutMs ?? 5000,
    `WebSocket to ${url} to open`,
  );
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
