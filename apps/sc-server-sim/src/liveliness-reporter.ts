import * as http from 'http';
import type * as https from 'https';
import { livelinessUrl, type Liveliness } from '@app/sc-protocol';
import type { SimLog } from './sim-log';

/** No liveliness request may take longer than this: a hung endpoint must never keep the simulator from exiting. */
export const REPORT_TIMEOUT_MS = 2000;
const ABORTED_FOR_DISCONNECT = 'aborted for disconnect';

/** At most this many pings in flight at once: a hung endpoint must not pile up sockets. */
const MAX_PINGS_IN_FLIGHT = 3;

/**
 * Sends the liveliness reports (empty-bodied POSTs to `<endpoint>/<id>?liveliness=<value>`).
 * Pings go out on time even while earlier ones are still unanswered (a slow endpoint must not thin
 * them out), up to MAX_PINGS_IN_FLIGHT; then they are skipped until one completes. `disconnect`
 * aborts the pings in flight rather than queue behind them (an unanswered ready gets half of the
 * disconnect's time budget to finish first).
 * Failures are logged on stderr (repeats of the same failure only once) and never thrown.
 * Without an endpoint every method is a no-op.
 */
export class LivelinessReporter {
  private muted = false;
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<{ value: Liveliness; request: http.ClientRequest; done: Promise<void> }>();
  private lastFailure: string | undefined;
  private httpsModule: typeof https | undefined;

  constructor(
    private readonly endpoint: string | undefined,
    private readonly id: string,
    private readonly log: SimLog,
    private readonly verbose = false,
  ) {}

  get enabled(): boolean {
    return this.endpoint !== undefined && !this.muted;
  }

  /** Never report anything again (a hung or never-ready server). */
  mute(): void {
    this.muted = true;
    this.stopPinging();
  }

  ready(): Promise<void> {
    return this.post('ready', REPORT_TIMEOUT_MS);
  }

  startPinging(periodMs: number): void {
    this.stopPinging();
    if (!this.enabled) return;
    this.pingTimer = setInterval(() => {
      const pings = [...this.inFlight].filter((entry) => entry.value === 'ping').length;
      if (pings >= MAX_PINGS_IN_FLIGHT) {
        if (this.verbose) this.log.info(`ping skipped: ${pings} pings still unanswered`);
        return;
      }
      if (this.verbose) this.log.info('ping');
      void this.post('ping', REPORT_TIMEOUT_MS);
    }, periodMs);
  }

  stopPinging(): void {
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  /** Stops pinging and reports `disconnect`, taking at most budgetMs. */
  async disconnect(budgetMs: number): Promise<void> {
    this.stopPinging();
    if (!this.enabled) return;
    const deadline = Date.now() + budgetMs;
    const ready = [...this.inFlight].find((entry) => entry.value !== 'ping');
    if (ready) await withTimeout(ready.done, budgetMs / 2); // let an unanswered ready through first
    for (const entry of this.inFlight) entry.request.destroy(new Error(ABORTED_FOR_DISCONNECT)); // pings, or a hung ready
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      this.log.error('liveliness disconnect not sent: out of time');
      return;
    }
    await this.post('disconnect', Math.min(REPORT_TIMEOUT_MS, remaining));
  }

  private post(value: Liveliness, timeoutMs: number): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    const url = livelinessUrl(this.endpoint!, this.id, value);
    let request: http.ClientRequest;
    try {
      request = this.client(url).request(url, { method: 'POST', headers: { 'content-length': '0' } });
    } catch (error) {
      this.failed(value, (error as Error).message);
      return Promise.resolve();
    }
    const entry = { value, request, done: Promise.resolve() };
    entry.done = new Promise<void>((resolve) => {
      const timer = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      let settled = false;
      const settle = (failure?: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inFlight.delete(entry);
        if (failure === undefined) this.succeeded();
        else if (failure !== ABORTED_FOR_DISCONNECT) this.failed(value, failure);
        resolve();
      };
      request.on('response', (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        settle(status >= 200 && status < 300 ? undefined : `HTTP ${status}`);
      });
      request.on('error', (error) => settle(error.message));
      request.end();
    });
    this.inFlight.add(entry);
    return entry.done;
  }

  private client(url: string): typeof http | typeof https {
    if (!url.startsWith('https:')) return http;
    this.httpsModule ??= require('https') as typeof https; // loaded only when needed: startup time matters
    return this.httpsModule;
  }

  private failed(value: Liveliness, failure: string): void {
    const message = `liveliness ${value} to ${this.endpoint} failed: ${failure}`;
    const key = failure;
    if (key === this.lastFailure && value === 'ping') return;
    this.lastFailure = key;
    this.log.error(value === 'ping' ? `${message} (identical ping failures are not repeated)` : message);
  }

  private succeeded(): void {
    if (this.lastFailure !== undefined) this.log.error(`liveliness endpoint ${this.endpoint} answers again`);
    this.lastFailure = undefined;
  }
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, ms));
    }),
  ]).finally(() => clearTimeout(timer));
}
