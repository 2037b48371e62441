// @ts-check
/*
 * The service's event stream, read with fetch() so that the API key travels in the Authorization header. An
 * EventSource cannot send headers, and a key in its URL (?access_token=) was written into every access log on the
 * way: the HAProxy recipe's httplog kept it in the clear.
 * It behaves as an EventSource where the dashboard relies on it: `open`, `message` and named events (MessageEvent,
 * `data`), `error`, readyState; a stream that drops is opened again after RETRY_MS (CONNECTING meanwhile); a refusal
 * (any status but 200, or not an event stream) closes it for good (CLOSED).
 */

const RETRY_MS = 3000;

/** Server-sent events (the text/event-stream format, without ids or retry): dispatches each complete event. */
export class EventStreamParser {
  /** @param {(type: string, data: string) => void} dispatch */
  constructor(dispatch) {
    this.dispatch = dispatch;
    this.pending = '';
    this.type = '';
    /** @type {string[]} */
    this.data = [];
  }

  /** @param {string} text the next piece of the stream, cut anywhere */
  push(text) {
    const whole = this.pending + text;
    // A \r at the end may be the first half of a \r\n: it waits for what follows.
    const cut = whole.endsWith('\r') ? whole.length - 1 : whole.length;
    const lines = whole.slice(0, cut).split(/\r\n|\r|\n/);
    // The last piece has no line end yet.
    this.pending = (lines.pop() ?? '') + whole.slice(cut);
    for (const line of lines) this.line(line);
  }

  /** @param {string} line */
  line(line) {
    if (line === '') {
      if (this.data.length > 0) this.dispatch(this.type || 'message', this.data.join('\n'));
      this.type = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data.push(value);
  }
}

export class EventFeed extends EventTarget {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;

  /**
   * @param {string} url
   * @param {Record<string, string>} headers the Authorization header, when the page has a key
   */
  constructor(url, headers) {
    super();
    this.url = url;
    this.headers = headers;
    /** @type {number} */
    this.readyState = EventFeed.CONNECTING;
    /** @type {AbortController | null} */
    this.abort = null;
    void this.run();
  }

  close() {
    this.readyState = EventFeed.CLOSED;
    this.abort?.abort();
  }

  async run() {
    while (this.readyState !== EventFeed.CLOSED) {
      const abort = new AbortController();
      this.abort = abort;
      /** @type {Response} */
      let response;
      try {
        const headers = { ...this.headers, Accept: 'text/event-stream' };
        response = await fetch(this.url, { headers, cache: 'no-store', signal: abort.signal });
      } catch {
        if (!(await this.dropped())) return;
        continue;
      }
      const type = response.headers.get('content-type') ?? '';
      if (response.status !== 200 || !type.startsWith('text/event-stream') || !response.body) {
        void response.body?.cancel().catch(() => undefined);
        if (this.readyState === EventFeed.CLOSED) return;
        this.readyState = EventFeed.CLOSED;
        this.dispatchEvent(new Event('error'));
        return;
      }
      if (this.readyState === EventFeed.CLOSED) return void abort.abort();
      this.readyState = EventFeed.OPEN;
      this.dispatchEvent(new Event('open'));
      await this.read(response.body).catch(() => undefined);
      if (!(await this.dropped())) return;
    }
  }

  /** @param {ReadableStream<Uint8Array>} body */
  async read(body) {
    const parser = new EventStreamParser((type, data) => {
      if (this.readyState === EventFeed.OPEN) this.dispatchEvent(new MessageEvent(type, { data }));
    });
    const decoder = new TextDecoder();
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done || this.readyState === EventFeed.CLOSED) return;
      parser.push(decoder.decode(value, { stream: true }));
    }
  }

  /** The stream dropped (or could not be reached): says so, waits, and tells whether to open it again. */
  async dropped() {
    if (this.readyState === EventFeed.CLOSED) return false;
    this.readyState = EventFeed.CONNECTING;
    this.dispatchEvent(new Event('error'));
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    return this.readyState !== EventFeed.CLOSED;
  }
}
