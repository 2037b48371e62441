import * as http from 'http';
import type * as https from 'https';
import { livelinessUrl, type Liveliness } from '../../../libs/sc-protocol/src';
import type { SimLog } from './sim-log';

/** No liveliness request may take longer than this: a hung endpoint must never keep the simulator from exiting. */
export const REPORT_TIMEOUT_MS = 2000;
const ABORTED_FOR_DISCONNECT = 'aborted for disconnect';

/**
 * Sends the liveliness reports (empty-bodied POSTs to `<endpoint>/<id>?liveliness=<value>`).
 * Reports go out one at a time and in order: a ping that falls due while the previous report is
 * still in flight is skipped; `disconnect` aborts an in-flight ping rather than queue behind it.
 * Failures are logged on stderr (repeats of the same failure only once) and never thrown.
 * Without an endpoint every method is a no-op.
 */
export class LivelinessReporter {
  private muted = false;
  private pingTimer: NodeJS.Timeout | undefined;
  private inFlight: { value: Liveliness; request: http.ClientRequest; done: Promise<void> } | undefined;
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
      if (this.inFlight) {
        if (this.verbose) this.log.info(`ping skipped: the ${this.inFlight.value} report is still in flight`);
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
    const pending = this.inFlight;
    if (pending?.value === 'ping') pending.request.destroy(new Error(ABORTED_FOR_DISCONNECT));
    if (pending) await withTimeout(pending.done, budgetMs); // a pending ready is let through first
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
        if (this.inFlight === entry) this.inFlight = undefined;
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
    this.inFlight = entry;
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
