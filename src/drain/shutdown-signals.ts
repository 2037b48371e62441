import { Logger } from '@nestjs/common';

/** What ShutdownSignals needs of the process (the real one in main.ts, an EventEmitter in tests). */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
}

export interface ShutdownActions {
  /** Graceful drain; resolves once the node may be closed. */
  drain(): Promise<unknown>;
  /** Closes the application (stops every server: SIGTERM, SIGKILL after KILL_GRACE_S). */
  close(signal: NodeJS.Signals): Promise<void>;
  exit(code: number): void;
}

/**
 * SIGTERM with DRAIN_TIMEOUT_S > 0 drains first, then closes; without, or on SIGINT, it closes at once
 * (as Nest's shutdown hooks did). A second SIGTERM/SIGINT during the drain closes at once. Exit 0 after a
 * clean close, 1 when closing failed.
 */
export class ShutdownSignals {
  private readonly logger = new Logger('Shutdown');
  private draining = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly actions: ShutdownActions,
    private readonly drainTimeoutS: number,
  ) {}

  listen(source: SignalSource): void {
    source.on('SIGTERM', () => this.onSignal('SIGTERM'));
    source.on('SIGINT', () => this.onSignal('SIGINT'));
  }

  onSignal(signal: NodeJS.Signals): void {
    if (this.closing) return;
    if (signal === 'SIGTERM' && this.drainTimeoutS > 0 && !this.draining) {
      this.draining = true;
      this.logger.log(`${signal}: draining (up to ${this.drainTimeoutS} s; send it again to stop at once)`);
      void this.actions.drain().then(() => this.close(signal));
      return;
    }
    if (this.draining) this.logger.log(`${signal} while draining: stopping every session now`);
    this.close(signal);
  }

  private close(signal: NodeJS.Signals): void {
    this.closing ??= this.actions.close(signal).then(
      () => this.actions.exit(0),
      (error: unknown) => {
        this.logger.error(`error during shutdown: ${(error as Error)?.stack ?? String(error)}`);
        this.actions.exit(1);
      },
    );
  }
}
