import * as http from 'http';
import { defaultCleanup, type Cleanup } from './processes';
import { waitFor, withTimeout } from './wait';

/**
 * A raw, streaming server-sent-events reader over node:http (supertest buffers the whole body, so it
 * cannot read a stream that has not ended). One connection, no agent, no reuse.
 */
export interface SseClient {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** Parsed `data:` payloads (JSON when they parse, else the raw text), in order of arrival. */
  readonly events: any[];
  /** Comment lines (`: ...`) without the leading colon and space, in order of arrival. */
  readonly comments: string[];
  /** Everything received, as text. */
  readonly raw: () => string;
  /** Resolves once the server has ended the response (or the connection closed): 'end' for a clean end, 'close' otherwise. */
  readonly ended: Promise<'end' | 'close'>;
  readonly isEnded: () => boolean;
  /** Resolves with the first event (so far or to come) that satisfies predicate. */
  waitForEvent<T = any>(predicate: (event: any) => boolean, timeoutMs?: number): Promise<T>;
  /** Destroys the connection (as a browser tab that goes away) and waits until the socket has closed. */
  close(): Promise<void>;
}

export function openSse(
  baseUrl: string,
  path: string,
  options: { headers?: Record<string, string>; cleanup?: Cleanup; timeoutMs?: number } = {},
): Promise<SseClient> {
  const events: any[] = [];
  const comments: string[] = [];
  let text = '';
  let pending = '';
  let endedFlag = false;

  return withTimeout(
    new Promise<SseClient>((resolve, reject) => {
      const req = http.request(new URL(path, baseUrl), {
        method: 'GET',
        agent: false,
        headers: { accept: 'text/event-stream', ...(options.headers ?? {}) },
      });
      let socketClosed: Promise<void> = Promise.resolve();
      req.on('socket', (socket) => {
        socketClosed = new Promise<void>((done) => (socket.destroyed ? done() : socket.once('close', () => done())));
      });
      const close = async (): Promise<void> => {
        req.destroy();
        await withTimeout(socketClosed, 5000, 'the SSE socket to close');
      };
      (options.cleanup ?? defaultCleanup).add(close, `SSE client ${path}`);
      req.on('error', (error) => reject(error));
      req.on('response', (res) => {
        res.setEncoding('utf8');
        const ended = new Promise<'end' | 'close'>((done) => {
          res.once('end', () => {
            endedFlag = true;
            done('end');
          });
          res.once('close', () => {
            endedFlag = true;
            done('close');
          });
        });
        res.on('error', () => undefined);
        res.on('data', (chunk: string) => {
          text += chunk;
          pending += chunk.replace(/\r\n/g, '\n');
          let boundary: number;
          while ((boundary = pending.indexOf('\n\n')) !== -1) {
            const block = pending.slice(0, boundary);
            pending = pending.slice(boundary + 2);
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) comments.push(line.slice(1).trimStart());
              else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
            }
            if (data.length > 0) {
              const payload = data.join('\n');
              try {
                events.push(JSON.parse(payload));
              } catch {
                events.push(payload);
              }
            }
          }
        });
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          events,
          comments,
          raw: () => text,
          ended,
          isEnded: () => endedFlag,
          waitForEvent: (predicate, timeoutMs = 5000) =>
            waitFor(() => events.find(predicate), timeoutMs, {
              description: () => `an SSE event on ${path} (got: ${JSON.stringify(events)})`,
            }),
          close,
        });
      });
      req.end();
    }),
    options.timeoutMs ?? 5000,
    `SSE response headers from ${path}`,
  );
}
