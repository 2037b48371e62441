import { CLOSE_GOING_AWAY, SC_EXIT_CODES, exitCodeMeaning } from '@app/sc-protocol';
import type { ScHello } from './hello';
import { ignoresInitialUse } from './faults';
import { LivelinessReporter, REPORT_TIMEOUT_MS } from './liveliness-reporter';
import { findModel } from './model-lookup';
import type { SimConfig } from './sim-config';
import type { SimLog } from './sim-log';
import { ViewerServer } from './viewer-server';

const MAX_TIMER_MS = 2 ** 31 - 1;
/** On SIGTERM/SIGINT the whole shutdown (closing the viewer, reporting disconnect) takes at most this long. */
export const SIGNAL_SHUTDOWN_BUDGET_MS = 1000;
/** How long a normal shutdown waits for the viewer's closing handshake. */
const VIEWER_CLOSE_WAIT_MS = 300;
/** WebSocket close code for "going away": the server is shutting down. */

/** One simulated ts3d_sc_server process: a viewer WebSocket, liveliness reports and the injected faults. */
export class Simulator {
  private readonly reporter: LivelinessReporter;
  private readonly viewer: ViewerServer;
  private model: string | null;
  private initialUseTimer: NodeJS.Timeout | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private stopping = false;

  constructor(
    private readonly config: SimConfig,
    private readonly log: SimLog,
  ) {
    this.model = config.modelFile;
    this.reporter = new LivelinessReporter(config.livelinessEndpoint, config.id, log, config.verbose);
    if (config.faults.neverReady) this.reporter.mute();
    this.viewer = new ViewerServer({
      port: config.port,
      host: config.host,
      tls: config.tls,
      sessionToken: config.sessionToken,
      log,
      hello: () => this.hello(),
      changeModel: (model) => {
        this.model = model;
        this.log.info(`viewer asked for model ${JSON.stringify(model)}`);
      },
      onViewerAccepted: () => this.clearInitialUseTimer(),
      onViewerClosed: (code) => void this.shutdown(`viewer closed (${code})`, REPORT_TIMEOUT_MS + VIEWER_CLOSE_WAIT_MS),
    });
  }

  async start(): Promise<void> {
    const { config, log } = this;
    if (config.faults.names.length > 0) log.info(`faults: ${config.faults.names.join(', ')}`);
    if (config.faults.exitBeforeReady !== undefined) {
      const code = config.faults.exitBeforeReady;
      log.error(`fault exit-before-ready: simulating a failure before ready: ${exitCodeMeaning(code)}`);
      this.exit(code, 'fault exit-before-ready');
    }
    process.on('SIGTERM', () => this.signal('SIGTERM'));
    process.on('SIGINT', () => this.signal('SIGINT'));

    let port: number;
    try {
      port = await this.viewer.listen();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      log.error(`cannot listen on port ${config.port}: ${code}`);
      this.exit(SC_EXIT_CODES.INTERNAL_ERROR, 'cannot listen');
    }
    if (this.stopping) return;
    log.info(
      `listening on port ${port} (${config.host ?? 'all interfaces'}, ${config.tls ? 'wss' : 'ws'}, ${config.rendererType})`,
    );
    if (config.faults.spawnGrandchild) this.spawnGrandchild();

    if (!ignoresInitialUse(config.faults) && config.initialUseMs <= MAX_TIMER_MS) {
      this.initialUseTimer = setTimeout(
        () => void this.shutdown(`no viewer connected within ${config.initialUseMs / 1000} s`, REPORT_TIMEOUT_MS),
        config.initialUseMs,
      );
    }
    if (config.faults.neverReady) {
      log.info('fault never-ready: will never report ready');
      return;
    }
    if (config.readyDelayMs > 0) this.later(config.readyDelayMs, () => this.becomeReady());
    else this.becomeReady();
  }

  private becomeReady(): void {
    if (this.stopping) return;
    const { config, log, reporter } = this;
    log.info(reporter.enabled ? 'ready' : 'ready (no liveliness endpoint: not reporting)');
    void reporter.ready();
    reporter.startPinging(config.pingPeriodMs);
    if (reporter.enabled) log.info(`pinging every ${config.pingPeriodMs / 1000} s`);
    const { crashAfterMs, stopPingingAfterMs, disconnectAfterMs } = config.faults;
    if (crashAfterMs !== undefined) {
      this.later(crashAfterMs, () => {
        log.error(`fault crash-after: crashing ${crashAfterMs} ms after ready`);
        this.exit(SC_EXIT_CODES.UNEXPECTED_EXIT, 'fault crash-after');
      });
    }
    if (stopPingingAfterMs !== undefined) {
      this.later(stopPingingAfterMs, () => {
        log.info(`fault stop-pinging-after: silent from now on (${stopPingingAfterMs} ms after ready)`);
        reporter.mute();
      });
    }
    if (disconnectAfterMs !== undefined) {
      this.later(disconnectAfterMs, () => {
        log.info(`fault disconnect-after: reporting disconnect and staying up (${disconnectAfterMs} ms after ready)`);
        void reporter.disconnect(5000);
      });
    }
  }

  private hello(): ScHello {
    return {
      type: 'hello',
      id: this.config.id,
      model: this.model,
      modelFound: findModel(this.model, this.config.modelSearchDirectories) !== undefined,
      rendererType: this.config.rendererType,
      sessionToken: this.config.sessionToken !== undefined,
    };
  }

  private signal(signal: NodeJS.Signals): void {
    if (this.config.faults.ignoreSigterm) {
      this.log.info(`received ${signal}: ignored (fault ignore-sigterm)`);
      return;
    }
    void this.shutdown(`received ${signal}`, SIGNAL_SHUTDOWN_BUDGET_MS);
  }

  /** Closes the viewer's socket, reports disconnect and exits 0, all within budgetMs. Only the first call counts. */
  private async shutdown(reason: string, budgetMs: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const deadline = Date.now() + budgetMs;
    this.clearInitialUseTimer();
    for (const timer of this.timers) clearTimeout(timer);
    this.reporter.stopPinging();
    this.log.info(`shutting down: ${reason}`);
    await this.viewer.close(CLOSE_GOING_AWAY, 'server shutting down', Math.min(VIEWER_CLOSE_WAIT_MS, budgetMs / 2));
    if (this.reporter.enabled) {
      this.log.info('disconnect');
      await this.reporter.disconnect(Math.max(0, deadline - Date.now()));
    }
    this.exit(SC_EXIT_CODES.SUCCESS, reason);
  }

  private exit(code: number, reason: string): never {
    this.log.info(`exit ${code} (${reason})`);
    process.exit(code);
  }

  private later(ms: number, action: () => void): void {
    this.timers.push(setTimeout(action, ms));
  }

  private clearInitialUseTimer(): void {
    if (this.initialUseTimer !== undefined) clearTimeout(this.initialUseTimer);
    this.initialUseTimer = undefined;
  }

  /** Fault spawn-grandchild: a long-lived child in our process group (not detached), its stdio not tied to ours. */
  private spawnGrandchild(): void {
    const { spawn } = require('child_process') as typeof import('child_process');
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)'], { stdio: 'ignore' });
    child.on('error', (error) => this.log.error(`fault spawn-grandchild: cannot start it: ${error.message}`));
    child.unref();
    if (child.pid !== undefined) this.log.info(`grandchild pid ${child.pid}`);
  }
}
