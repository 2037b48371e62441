import { type FromRelayWorker, noCounts, RELAY_REPORT_INTERVAL_MS, type RelayCounts } from './relay-worker.protocol';
import type { WsTunnel } from './ws-tunnel';

/** One tunnel's counts since the last report, sent at most every RELAY_REPORT_INTERVAL_MS (flow changes at once). */
export class RelayReporter {
  private counts: RelayCounts = noCounts();
  private timeout: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** performance.now(): read from the wall clock, a step back held every report for its length (ended as idle). */
  private lastSent = -Infinity;
  private spoke = false;
  tunnel: WsTunnel | undefined;

  constructor(
    private readonly id: number,
    private readonly send: (report: FromRelayWorker) => void,
  ) {}

  count(direction: keyof RelayCounts, bytes: number, messages: number): void {
    this.counts[direction].bytes += bytes;
    this.counts[direction].messages += messages;
    this.schedule(!this.spoke && this.tunnel?.viewerHasSpoken === true);
  }

  schedule(now = false): void {
    if (this.immediate) return;
    if (!now && this.timeout) return;
    const wait = now ? 0 : RELAY_REPORT_INTERVAL_MS - (performance.now() - this.lastSent);
    if (wait > 0) return void (this.timeout = setTimeout(() => this.flush(), wait));
    clearTimeout(this.timeout);
    this.timeout = undefined;
    this.immediate = setImmediate(() => this.flush());
  }

  flush(): void {
    clearTimeout(this.timeout);
    clearImmediate(this.immediate);
    this.timeout = this.immediate = undefined;
    if (!this.tunnel) return;
    this.lastSent = performance.now();
    this.spoke = this.tunnel.viewerHasSpoken;
    const { counts } = this;
    this.counts = noCounts();
    this.send({ type: 'report', id: this.id, counts, viewerHasSpoken: this.spoke, flow: this.tunnel.flow });
  }
}
