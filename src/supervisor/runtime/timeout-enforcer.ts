import { Inject, Injectable, Logger } from '@nestjs/common';
import { TIMING_SETTINGS, type TimingSettings } from '../../config';
import type { TimeoutAction } from '../rules/timeout-policy';
import { SpawnLifecycle } from './spawn-lifecycle';
import { SpawnProcesses } from './spawn-processes';
import { SpawnRegistry } from './spawn-registry';

/** Applies the timeout policy's decisions (decideTimeouts) to the live spawns: marks, stops, kills. */
@Injectable()
export class TimeoutEnforcer {
  private readonly logger = new Logger('Supervisor');

  constructor(
    @Inject(TIMING_SETTINGS.token) private readonly timing: TimingSettings,
    private readonly registry: SpawnRegistry,
    private readonly lifecycle: SpawnLifecycle,
    private readonly processes: SpawnProcesses,
  ) {}

  /** Applies one decision of the timeout policy. */
  enforce(action: TimeoutAction, now: number): void {
    const entry = this.registry.liveEntry(action.id);
    if (!entry) return;
    const record = entry.record;
    switch (action.kind) {
      case 'time_out':
      case 'mark_unresponsive':
        record.endReason = action.reason;
        this.lifecycle.transition(entry, action.kind === 'time_out' ? 'timed_out' : 'unresponsive', action.reason);
        return this.processes.stop(action.id, action.reason);
      case 'stop':
        return this.processes.stop(action.id, action.reason);
      case 'kill':
        if (action.again) {
          this.logger.error({
            spawnId: record.id,
            msg: `spawn ${record.id} (pid ${record.pid}) survived SIGKILL for ${this.timing.killGraceS} s; its port ${record.spec.wsPort} stays reserved until it exits`,
          });
        } else {
          this.logger.warn({
            spawnId: record.id,
            msg: `spawn ${record.id} did not exit within ${this.timing.killGraceS} s of SIGTERM (ignored, or the process is stopped); sending SIGKILL to its process group`,
          });
        }
        this.processes.kill(action.id, now);
    }
  }
}
