import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '../adapters';
import { SCALE_OUT_SETTINGS, type ScaleOutSettings } from '../config';
import { SupervisorService } from '../supervisor';
import { decideDrain, type DrainDecision } from './drain-policy';

/** How often a drain looks whether the last session has ended. */
export const DRAIN_POLL_MS = 100;

/**
 * Graceful drain (DRAIN_TIMEOUT_S): the node stops taking new sessions (readiness 503, agent `drain`, new
 * spawns 503 'draining') and waits until its live sessions have ended or the timeout has passed. Stopping
 * what is left is the shutdown's job (app.close()); see ShutdownSignals.
 */
@Injectable()
export class DrainService implements OnApplicationShutdown {
  private readonly logger = new Logger('Drain');
  private timer: NodeJS.Timeout | undefined;
  private finish: ((decision: DrainDecision) => void) | undefined;

  constructor(
    private readonly supervisor: SupervisorService,
    @Inject(SCALE_OUT_SETTINGS.token) private readonly scaleOut: ScaleOutSettings,
    private readonly clock: Clock,
  ) {}

  /** Begins draining; resolves 'idle' once no session is live, 'timed_out' after DRAIN_TIMEOUT_S. */
  drain(): Promise<DrainDecision> {
    this.supervisor.beginDrain();
    const startedAt = this.clock.now();
    const timeoutS = this.scaleOut.drainTimeoutS;
    // Unclaimed warm servers are being stopped by now: counted in activeSpawns until they exit, not as sessions.
    const sessions = this.supervisor.liveSessionCount();
    const warm = this.supervisor.capacity().activeSpawns - sessions;
    this.logger.log(
      `draining: no new session; ${sessions} live session(s) get up to ${timeoutS} s` +
        (warm > 0 ? `; ${warm} unclaimed warm server(s) stopped` : ''),
    );
    return new Promise<DrainDecision>((resolve) => {
      this.finish = resolve;
      const check = (): void => {
        const liveSpawns = this.supervisor.capacity().activeSpawns;
        const decision = decideDrain({ liveSpawns, startedAt, now: this.clock.now(), timeoutS });
        if (decision === 'wait') return;
        this.logger.log(
          decision === 'idle'
            ? 'drained: no live session left'
            : `drain timeout (${timeoutS} s) passed: stopping the ${liveSpawns} session(s) left`,
        );
        this.stopWaiting(decision);
      };
      this.timer = setInterval(check, DRAIN_POLL_MS);
      check();
    });
  }

  onApplicationShutdown(): void {
    this.stopWaiting('timed_out');
  }

  private stopWaiting(decision: DrainDecision): void {
    clearInterval(this.timer);
    this.timer = undefined;
    const finish = this.finish;
    this.finish = undefined;
    finish?.(decision);
  }
}
