import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock, ProcessUsage } from '../../adapters';
import { SESSION_LIMITS_SETTINGS, type SessionLimitsSettings } from '../../config';
import { decideSessionLimits, SessionLimitAction } from '../rules/session-limit-policy';
import type { Stall } from '../rules/service-stall';
import { SpawnEvents } from './spawn-events';
import { SpawnProcesses } from './spawn-processes';
import type { SpawnRecord } from '../rules/spawn-record';
import { SpawnRegistry } from './spawn-registry';

/** Applies decideSessionLimits() (warnings, ends) and refreshes what each session costs; run by the sweep. */
@Injectable()
export class SessionLimits {
  private readonly logger = new Logger('SessionLimits');

  constructor(
    @Inject(SESSION_LIMITS_SETTINGS.token) private readonly settings: SessionLimitsSettings,
    private readonly registry: SpawnRegistry,
    private readonly processes: SpawnProcesses,
    private readonly events: SpawnEvents,
    private readonly usage: ProcessUsage,
    private readonly clock: Clock,
  ) {}

  sweep(now: number, stalls: readonly Stall[] = []): void {
    const records = this.registry.liveEntries().map((entry) => entry.record);
    for (const action of decideSessionLimits(records, now, this.settings, stalls)) this.apply(action, now);
    this.refreshUsage(records);
  }

  private apply(action: SessionLimitAction, now: number): void {
    const record = this.registry.liveEntry(action.id)?.record;
    if (!record) return;
    const at = this.clock.toDate(now).toISOString();
    switch (action.kind) {
      case 'warn':
        record.expiring = { reason: action.reason, secondsLeft: action.secondsLeft, at: now };
        this.logger.log({
          spawnId: record.id,
          msg: `spawn ${record.id}: ${action.reason === 'idle' ? 'idle' : 'lifetime'} limit ends it in ${action.secondsLeft} s`,
        });
        this.events.notify({
          id: record.id,
          event: 'expiring',
          reason: action.reason,
          secondsLeft: action.secondsLeft,
          at,
        });
        return;
      case 'cancel_warning':
        record.expiring = undefined;
        this.events.notify({ id: record.id, event: 'expiring_cancelled', reason: action.reason, at });
        return;
      case 'end':
        record.viewerClose = { code: action.closeCode, reason: action.closeReason };
        this.processes.stop(record.id, action.message);
    }
  }

  private refreshUsage(records: SpawnRecord[]): void {
    const pids = records.map((r) => r.pid).filter((pid): pid is number => pid !== undefined);
    const usage = this.usage.read(pids);
    for (const record of records) {
      const group = record.pid === undefined ? undefined : usage.get(record.pid);
      if (!group) continue;
      record.cpuSeconds = group.cpuSeconds;
      record.rssBytes = group.rssBytes;
    }
  }
}
