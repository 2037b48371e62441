import type { Response } from 'express';

/** A subscriber with this much unread is not reading: its stream is closed rather than buffered without bound. */
export const MAX_UNREAD_BYTES = 1024 * 1024;

/** A text/event-stream response: JSON events, comment keep-alives, and cleanup exactly once. */
export class EventStream {
  private readonly keepAlive: NodeJS.Timeout;
  private readonly cleanups: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly response: Response,
    keepAliveMs: number,
  ) {
    response.status(200);
    response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    response.setHeader('Cache-Control', 'no-cache, no-transform');
    response.setHeader('Connection', 'keep-alive');
    // Tells nginx-style proxies not to buffer the stream.
    response.setHeader('X-Accel-Buffering', 'no');
    response.flushHeaders();
    response.write(': connected\n\n');
    this.keepAlive = setInterval(() => this.write(': keep-alive\n\n'), keepAliveMs);
    response.on('close', () => this.close());
  }

  onClose(cleanup: () => void): void {
    if (this.closed) cleanup();
    else this.cleanups.push(cleanup);
  }

  /** An event; with `name`, a named one (`event: <name>`), which an EventSource's `message` listeners do not get. */
  send(data: unknown, name?: string): void {
    this.write(`${name ? `event: ${name}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
  }

  private write(chunk: string): void {
    if (this.closed) return;
    if (this.response.writableLength > MAX_UNREAD_BYTES) {
      this.response.destroy();
      this.close();
      return;
    }
    this.response.write(chunk);
  }

  /** Ends the stream (the subscriber went away, or there is nothing more to say). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAlive);
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    if (!this.response.writableEnded) this.response.end();
  }
}
