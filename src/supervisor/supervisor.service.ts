import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { describeExit, exitCodeMeaning, Liveliness } from '@app/sc-protocol';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { PortAllocator } from '../ports/port-allocator.service';
import { LivelinessEndpoint } from './liveliness-endpoint';
import { LaunchCommand, LaunchedProcess, ProcessEnd, ProcessLauncher } from './process-launcher';
import { buildScCommand, redactArgs } from './sc-command';
import { SecretRedactor } from './secret-redactor';
import { SpawnEvents } from './spawn-events';
import { SpawnJournal } from './spawn-journal';
import { SpawnRecord, SpawnSpec } from './spawn-record';
import { assertTransition, SPAWN_STATES, SpawnState } from './spawn-state';
import { NoCapacityError, NotReadyCause, SpawnNotReadyError } from './supervisor.errors';

export const ENDED_SPAWNS_KEPT = 100;
/** After SIGKILL at shutdown, how long to wait for the kernel to report the exits. */
const SHUTDOWN_KILL_WAIT_MS = 2000;

export type SpawnRequest = Omit<SpawnSpec, 'id' | 'wsPort'> & { id?: string };

interface Waiter {
  resolve(record: SpawnRecord): void;
  reject(error: Error): void;
}

interface LiveSpawn {
  record: SpawnRecord;
  process?: LaunchedProcess;
  waiters: Waiter[];
}

export type ReportOutcome = 'accepted' | 'unknown';

/**
 * Owns every Stream Cache Server process: starts it, follows its liveliness reports and exit,
 * enforces the timeouts (through sweep()), and stops it. All state changes go through transition().
 */
@Injectable()
export class SupervisorService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Supervisor');
  private readonly live = new Map<string, LiveSpawn>();
  private readonly ended = new Map<string, SpawnRecord>();
  /** Slots taken by launches that are still leasing a port, so concurrent requests cannot exceed SC_MAX_SPAWNS. */
  private reservedSlots = 0;
  private shuttingDown = false;
  private exitListeners = new Set<() => void>();

  constructor(
    private readonly config: AppConfig,
    private readonly ports: PortAllocator,
    private readonly launcher: ProcessLauncher,
    private readonly clock: Clock,
    private readonly events: SpawnEvents,
    private readonly livelinessEndpoint: LivelinessEndpoint,
    private readonly redactor: SecretRedactor,
    private readonly journal: SpawnJournal,
  ) {}

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Spawns that hold a slot: live processes plus launches in progress. */
  activeCount(): number {
    return this.live.size + this.reservedSlots;
  }

  hasFreeSlot(): boolean {
    return this.activeCount() < this.config.maxSpawns;
  }

  get(id: string): SpawnRecord | undefined {
    return this.live.get(id)?.record ?? this.ended.get(id);
  }

  /** Live spawns first (oldest first), then ended ones (most recent first). */
  list(): SpawnRecord[] {
    const live = [...this.live.values()].map((s) => s.record);
    const ended = [...this.ended.values()].reverse();
    return [...live, ...ended];
  }

  countByState(): Record<SpawnState, number> {
    const counts = Object.fromEntries(SPAWN_STATES.map((s) => [s, 0])) as Record<SpawnState, number>;
    for (const record of this.list()) counts[record.state]++;
    return counts;
  }

  /** Reserves a slot and a port and starts the process. Throws NoCapacityError when none is free. */
  async launch(request: SpawnRequest): Promise<SpawnRecord> {
    if (this.shuttingDown) throw new NoCapacityError('shutting_down', 'the service is shutting down');
    if (request.id !== undefined && this.get(request.id)) throw new Error(`a spawn with id ${request.id} already exists`);
    if (!this.hasFreeSlot()) {
      throw new NoCapacityError('slots', `all ${this.config.maxSpawns} spawn slots are in use`);
    }
    this.reservedSlots++;
    let wsPort: number | null;
    try {
      wsPort = await this.ports.lease();
    } finally {
      this.reservedSlots--;
    }
    if (wsPort === null) {
      throw new NoCapacityError('ports', `no free WebSocket port in ${this.config.portBase}-${this.config.portBase + this.config.portCount - 1}`);
    }
    if (this.shuttingDown) {
      this.ports.release(wsPort);
      throw new NoCapacityError('shutting_down', 'the service is shutting down');
    }
    return this.start({ ...request, id: request.id ?? crypto.randomUUID(), wsPort });
  }

  private start(spec: SpawnSpec): SpawnRecord {
    let command: LaunchCommand;
    try {
      command = buildScCommand(this.config, spec, this.livelinessEndpoint.baseUrl());
    } catch (error) {
      // Nothing was registered yet: give the port back, or it would stay leased for ever.
      this.ports.release(spec.wsPort);
      throw error;
    }
    const record = new SpawnRecord(spec, this.clock.now());
    const entry: LiveSpawn = { record, waiters: [] };
    this.live.set(spec.id, entry);
    this.logger.log(`spawn ${spec.id} starting on port ${spec.wsPort}: ${command.executable} ${redactArgs(command.args).join(' ')}`);
    this.events.emit({ id: spec.id, state: 'starting', previousState: null, at: new Date(record.startedAt).toISOString() });
    try {
      entry.process = this.launcher.launch(command, {
        onLine: (stream, line) => this.captureLine(record, stream, line),
        onProcessGone: () => (record.processGoneAt = this.clock.now()),
        onExit: (end) => this.handleExit(spec.id, end),
      });
    } catch (error) {
      // spawn() can throw synchronously (E2BIG, EPERM...): end the spawn as if it had failed to start, freeing its slot and port.
      this.handleExit(spec.id, { code: null, signal: null, error: error instanceof Error ? error : new Error(String(error)) });
      return record;
    }
    record.pid = entry.process.pid;
    this.saveJournal();
    return record;
  }

  /** Resolves once the spawn is ready; rejects with SpawnNotReadyError if it fails, times out or is stopped first. */
  waitUntilReady(id: string, signal?: AbortSignal): Promise<SpawnRecord> {
    const entry = this.live.get(id);
    const record = entry?.record ?? this.ended.get(id);
    if (!record) return Promise.reject(new Error(`unknown spawn ${id}`));
    if (record.state === 'ready' || record.state === 'connected') return Promise.resolve(record);
    if (!entry || record.state !== 'starting') {
      const cause = record.state === 'failed' ? 'failed' : 'stopped';
      return Promise.reject(new SpawnNotReadyError(record, cause, record.endReason ?? `spawn is ${record.state}`));
    }
    return new Promise<SpawnRecord>((resolve, reject) => {
      const onAbort = () => this.stop(id, 'the client went away before the server was ready');
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      entry.waiters.push({
        resolve: (r) => (done(), resolve(r)),
        reject: (e) => (done(), reject(e)),
      });
      if (signal?.aborted) onAbort();
    });
  }

  /** A liveliness report from a server. Any report refreshes its last-report time. */
  report(id: string, value: Liveliness): ReportOutcome {
    const entry = this.live.get(id);
    if (!entry) return this.ended.has(id) ? 'accepted' : 'unknown';
    const record = entry.record;
    record.lastReportAt = this.clock.now();
    if (value === 'ready' && record.state === 'starting') {
      record.readyAt = record.lastReportAt;
      this.transition(entry, 'ready', `ready after ${record.readyAt - record.startedAt} ms`);
    } else if (value === 'disconnect' && (record.state === 'ready' || record.state === 'connected')) {
      this.transition(entry, 'disconnected', 'the server reported disconnect');
    }
    return 'accepted';
  }

  /** A viewer attached to (or left) the server, as seen by the WebSocket proxy. */
  viewerAttached(id: string): void {
    const entry = this.live.get(id);
    if (entry?.record.state !== 'ready') return;
    entry.record.connectedAt = this.clock.now();
    this.transition(entry, 'connected', 'a viewer attached through the proxy');
  }

  /** The server turned the proxied viewer away (wrong session token): it keeps waiting for a valid viewer. */
  viewerRefused(id: string): void {
    const entry = this.live.get(id);
    if (entry?.record.state !== 'connected') return;
    entry.record.connectedAt = undefined;
    this.transition(entry, 'ready', 'the server refused the viewer (policy violation); waiting for another');
  }

  /** The proxied viewer left; the server should report disconnect and exit (sweep() stops it if it does not). */
  viewerDetached(id: string): void {
    const record = this.live.get(id)?.record;
    if (record && record.viewerLeftAt === undefined) record.viewerLeftAt = this.clock.now();
  }

  /** Payload bytes the proxy moved between the viewer and the server. */
  countViewerBytes(id: string, direction: 'toServer' | 'toViewer', bytes: number): void {
    const record = this.live.get(id)?.record;
    if (record) record[direction === 'toServer' ? 'bytesToServer' : 'bytesToViewer'] += bytes;
  }

  /** Asks the spawn to stop: SIGTERM to its process group now, SIGKILL after KILL_GRACE_S (from sweep()). Idempotent. */
  stop(id: string, reason: string): SpawnRecord | undefined {
    const entry = this.live.get(id);
    if (!entry) return this.ended.get(id);
    const record = entry.record;
    if (record.state === 'terminating') return record;
    record.endReason ??= reason;
    record.stopRequestedAt = this.clock.now();
    this.transition(entry, 'terminating', reason);
    entry.process?.signalGroup('SIGTERM');
    return record;
  }

  /** Enforces the ready timeout, the ping timeout and the kill escalation. Called by the scheduler; pure given the clock. */
  sweep(now: number = this.clock.now()): void {
    const { readyTimeoutS, pingTimeoutS, killGraceS } = this.config;
    for (const entry of [...this.live.values()]) {
      const record = entry.record;
      // Its exit is being handled: neither a timeout nor a signal applies any more.
      if (record.processGoneAt !== undefined) continue;
      const since = (t: number | undefined) => (now - (t ?? record.startedAt)) / 1000;
      switch (record.state) {
        case 'starting':
          if (since(record.startedAt) >= readyTimeoutS) {
            const reason = `the server did not report ready within ${readyTimeoutS} s`;
            record.endReason = reason;
            this.transition(entry, 'timed_out', reason);
            this.stop(record.id, reason);
          }
          break;
        case 'ready':
        case 'connected':
          if (record.viewerLeftAt !== undefined && since(record.viewerLeftAt) >= pingTimeoutS) {
            this.stop(record.id, `no disconnect report within ${pingTimeoutS} s after its viewer left`);
          } else if (since(record.lastReportAt ?? record.readyAt) >= pingTimeoutS) {
            const reason = `no liveliness report for ${pingTimeoutS} s`;
            record.endReason = reason;
            this.transition(entry, 'unresponsive', reason);
            this.stop(record.id, reason);
          }
          break;
        case 'disconnected':
          // It said it would exit; one that lingers would otherwise hold its port for ever.
          if (since(record.stateChangedAt) >= killGraceS) this.stop(record.id, `still running ${killGraceS} s after reporting disconnect`);
          break;
        case 'terminating':
          if (record.sigkillSentAt === undefined && since(record.stopRequestedAt) >= killGraceS) {
            this.logger.warn(`spawn ${record.id} ignored SIGTERM for ${killGraceS} s; sending SIGKILL to its process group`);
            record.sigkillSentAt = now;
            entry.process?.signalGroup('SIGKILL');
          } else if (record.sigkillSentAt !== undefined && since(record.sigkillSentAt) >= killGraceS) {
            this.logger.error(`spawn ${record.id} (pid ${record.pid}) survived SIGKILL for ${killGraceS} s; its port ${record.spec.wsPort} stays reserved until it exits`);
            record.sigkillSentAt = now;
            entry.process?.signalGroup('SIGKILL');
          }
          break;
        default:
          break;
      }
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.shutdown();
  }

  /** Refuses new spawns, stops every child group, SIGKILLs what is left after the grace, and waits for the exits. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    if (this.live.size === 0) return;
    this.logger.log(`shutting down: stopping ${this.live.size} spawn(s)`);
    for (const id of [...this.live.keys()]) this.stop(id, 'the service is shutting down');
    if (await this.waitForNoLiveSpawns(this.config.killGraceS * 1000)) return;
    for (const entry of this.live.values()) {
      this.logger.warn(`spawn ${entry.record.id} still running after ${this.config.killGraceS} s; sending SIGKILL`);
      entry.record.sigkillSentAt = this.clock.now();
      entry.process?.signalGroup('SIGKILL');
    }
    if (!(await this.waitForNoLiveSpawns(SHUTDOWN_KILL_WAIT_MS))) {
      this.logger.error(`${this.live.size} spawn(s) did not exit after SIGKILL: ${[...this.live.keys()].join(', ')}`);
    }
  }

  private waitForNoLiveSpawns(timeoutMs: number): Promise<boolean> {
    if (this.live.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (result: boolean) => {
        clearTimeout(timer);
        this.exitListeners.delete(check);
        resolve(result);
      };
      const check = () => {
        if (this.live.size === 0) finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.exitListeners.add(check);
    });
  }

  private handleExit(id: string, end: ProcessEnd): void {
    const entry = this.live.get(id);
    if (!entry) return;
    const record = entry.record;
    record.endedAt = this.clock.now();
    record.exitCode = end.code;
    record.signal = end.signal;
    const how = end.error ? `could not be started: ${end.error.message}` : describeExit(end.code, end.signal);
    if (end.error) this.logger.error(`spawn ${id} ${how}`);
    else if (end.code !== null) this.logger.log(`spawn ${id} exited with code: ${end.code} (${exitCodeMeaning(end.code)})`);
    else this.logger.log(`spawn ${id} exited with signal: ${end.signal}`);
    if (record.state === 'starting') {
      const stderr = record.logs.last(5, 'stderr').map((l) => l.line);
      record.endReason = `the server exited before it was ready: ${how}${stderr.length ? `; last stderr: ${stderr.join(' | ')}` : ''}`;
      this.transition(entry, 'failed', record.endReason);
    } else {
      record.endReason ??= record.state === 'disconnected' ? 'the viewer session ended' : `the server exited unexpectedly: ${how}`;
      this.transition(entry, 'exited', how);
    }
    this.live.delete(id);
    this.saveJournal();
    this.ports.release(record.spec.wsPort);
    this.ended.set(id, record);
    while (this.ended.size > ENDED_SPAWNS_KEPT) this.ended.delete(this.ended.keys().next().value!);
    for (const listener of [...this.exitListeners]) listener();
  }

  private saveJournal(): void {
    const entries = [...this.live.values()]
      .filter(({ record }) => record.pid !== undefined)
      .map(({ record }) => ({ id: record.id, pid: record.pid!, wsPort: record.spec.wsPort }));
    this.journal.save(entries);
  }

  private transition(entry: LiveSpawn, to: SpawnState, detail?: string): void {
    const record = entry.record;
    const from = record.state;
    assertTransition(from, to);
    record.state = to;
    record.stateChangedAt = this.clock.now();
    this.logger.log(`spawn ${record.id}: ${from} -> ${to}${detail ? ` (${detail})` : ''}`);
    this.events.emit({ id: record.id, state: to, previousState: from, at: new Date(record.stateChangedAt).toISOString(), detail });
    if (from !== 'starting') return;
    const waiters = entry.waiters.splice(0);
    for (const waiter of waiters) {
      if (to === 'ready') waiter.resolve(record);
      else waiter.reject(new SpawnNotReadyError(record, notReadyCause(to), record.endReason ?? detail ?? `spawn is ${to}`));
    }
  }

  private captureLine(record: SpawnRecord, stream: 'stdout' | 'stderr', raw: string): void {
    const line = this.redactor.redact(raw);
    record.logs.push({ at: new Date(this.clock.now()).toISOString(), stream, line });
    this.logger.log(`[${record.id}] ${stream}: ${line}`);
  }
}

function notReadyCause(leftStartingFor: SpawnState): NotReadyCause {
  if (leftStartingFor === 'failed' || leftStartingFor === 'timed_out') return leftStartingFor;
  return 'stopped';
}
