import { noFlow, type RelayCounts, type RelayFlow } from './relay-worker.protocol';
import type { Tunnel } from './ws-proxy.types';
import type { TunnelClose, WsTunnelOptions } from './ws-tunnel';

/**
 * The service's side of a tunnel the relay process runs: it forwards close and terminate there, and applies what
 * the relay process reports (counts, flow, the close) through the same callbacks a WsTunnel would call.
 */
export class RemoteTunnel implements Tunnel {
  viewerHasSpoken = false;
  flow: RelayFlow = noFlow();
  private finished = false;
  private readonly closeWaiters: Array<() => void> = [];

  constructor(
    private readonly options: Pick<WsTunnelOptions, 'onBytes' | 'onClosed' | 'onError'>,
    private readonly command: (
      message: { type: 'close'; code: number; reason: string } | { type: 'terminate' },
    ) => void,
  ) {}

  close(code: number, reason: string): Promise<void> {
    const done = this.closed$();
    if (!this.finished) this.command({ type: 'close', code, reason });
    return done;
  }

  terminate(): void {
    if (!this.finished) this.command({ type: 'terminate' });
  }

  closed$(): Promise<void> {
    if (this.finished) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  report(counts: RelayCounts, viewerHasSpoken: boolean, flow: RelayFlow): void {
    if (this.finished) return;
    this.viewerHasSpoken = viewerHasSpoken;
    this.flow = flow;
    for (const direction of ['toServer', 'toViewer'] as const) {
      const { bytes, messages } = counts[direction];
      if (bytes > 0 || messages > 0) this.options.onBytes(direction, bytes, messages);
    }
  }

  error(side: 'viewer' | 'server', message: string): void {
    this.options.onError?.(side, new Error(message));
  }

  /** Called once, when both connections are closed (or the relay process is gone, and they with it). */
  closed(close: TunnelClose): void {
    if (this.finished) return;
    this.finished = true;
    this.flow = noFlow();
    this.options.onClosed(close);
    for (const wake of this.closeWaiters.splice(0)) wake();
  }
}
