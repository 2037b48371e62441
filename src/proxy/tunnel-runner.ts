import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { existsSync } from 'fs';
import type { Socket } from 'net';
import { RelayWorker, relayWorkerEntry, type TunnelOptions } from './relay-worker';
import type { Tunnel } from './ws-proxy.types';
import { WsTunnel } from './ws-tunnel';

/** After the relay process died, when another may be started (meanwhile tunnels run in the service). */
const RESTART_DELAY_MS = 5000;

/**
 * Where a viewer's tunnel runs: in the relay process (relay-worker.main.ts) when it is up and both sockets are plain
 * TCP; in this process otherwise (TLS on either side, the relay process starting, gone, or not built). Either way
 * the tunnel behaves the same; only the relay process's counts reach the supervisor up to 20 ms late.
 */
@Injectable()
export class TunnelRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Relay');
  private worker: RelayWorker | undefined;
  private restartAt = 0;
  private stopped = false;
  private unavailable = false;

  onApplicationBootstrap(): void {
    this.startIfDue();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.worker?.stop();
  }

  /** The relay process's pid while it can take tunnels. */
  get relayProcessPid(): number | undefined {
    return this.worker?.usable ? this.worker.pid : undefined;
  }

  /** Runs the tunnel between two sockets past their handshakes (both paused), with what each sent along. */
  open(viewer: Socket, viewerHead: Buffer, server: Socket, serverHead: Buffer, options: TunnelOptions): Tunnel {
    const remote = this.worker?.handOver(viewer, viewerHead, server, serverHead, options);
    if (remote) return remote;
    this.startIfDue();
    const tunnel = new WsTunnel(viewer, server, options);
    tunnel.start(viewerHead, serverHead);
    return tunnel;
  }

  private startIfDue(): void {
    if (this.stopped || this.unavailable || (this.worker && !this.worker.gone) || performance.now() < this.restartAt)
      return;
    const entry = relayWorkerEntry();
    if (!existsSync(entry)) {
      this.unavailable = true;
      this.logger.warn(`tunnels run in the service: the relay process's ${entry} is missing (npm run build)`);
      return;
    }
    const worker = new RelayWorker(entry, (how, dropped) => {
      if (this.stopped) return;
      this.restartAt = performance.now() + RESTART_DELAY_MS;
      this.logger.error(`relay process ${worker.pid} ended (${how}); ${dropped} tunnel(s) dropped with it`);
    });
    this.worker = worker;
    void worker.ready.then((ready) => {
      if (ready) this.logger.log(`tunnels run in the relay process (pid ${worker.pid})`);
    });
  }
}
