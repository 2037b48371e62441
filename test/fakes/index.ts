/**
 * Fakes of the adapters (src/adapters) for unit specs: a clock, a port probe, a process launcher, a journal, a
 * process table and a file system; and the supervisor's real module compiled with them (overrideProvider).
 */
import { Logger } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test, TestingModule } from '@nestjs/testing';
import { Observable } from 'rxjs';
import { parseArgv, ScServerOptions } from '@app/sc-protocol';
import { AdaptersModule } from '../../src/adapters/adapters.module';
import { Clock } from '../../src/adapters/clock.adapter';
import { FileSystem } from '../../src/adapters/file-system.adapter';
import { LivelinessEndpoint } from '../../src/adapters/liveliness-endpoint.adapter';
import { PortProbe, PortProbeError } from '../../src/adapters/port-probe.adapter';
import {
  LaunchCommand,
  LaunchedProcess,
  LaunchHandlers,
  ProcessLauncher,
} from '../../src/adapters/process-launcher.adapter';
import { ProcessTable } from '../../src/adapters/process-table.adapter';
import { GroupUsage, ProcessUsage } from '../../src/adapters/process-usage.adapter';
import { SchedulingFiles } from '../../src/adapters/scheduling-files.adapter';
import { Journal, JournalEntry, SpawnJournal } from '../../src/adapters/spawn-journal.adapter';
import { AppConfig } from '../../src/config/app-config';
import { AppConfigModule } from '../../src/startup/app-config.module';
import { PortAllocator } from '../../src/ports/port-allocator.service';
import type { SpawnView } from '../../src/supervisor/rules/spawn-record';
import { SpawnEvent, SpawnEvents } from '../../src/supervisor/runtime/spawn-events';
import { SupervisorModule } from '../../src/supervisor/supervisor.module';
import type { SupervisorService } from '../../src/supervisor/runtime/supervisor.service';
import { FakeProcessTable } from './process-table.fake';

export { FakeProcessTable } from './process-table.fake';
export { FakeSocketTable } from './socket-table.fake';
import { FakeSchedulingFiles, plainNiceMachine } from './scheduling-files.fake';

export { FakeSchedulingFiles, plainNiceMachine };

/** A clock that only moves when the test advances it. */
export class FakeClock extends Clock {
  constructor(public t = Date.UTC(2026, 0, 1)) {
    super();
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/**
 * Ports in `busy` are held by "another program"; every probe is recorded. Optionally answers after a delay; while
 * `failing` is set, every probe fails with it (PortProbeError), as under EMFILE.
 */
export class FakePortProbe extends PortProbe {
  readonly busy = new Set<number>();
  readonly probed: number[] = [];
  delay?: () => number;
  failing?: string;
  isFree(port: number): Promise<boolean> {
    this.probed.push(port);
    if (this.failing !== undefined) return Promise.reject(new PortProbeError(this.failing));
    const answer = !this.busy.has(port);
    const ms = this.delay?.();
    if (ms === undefined) return Promise.resolve(answer);
    return new Promise((resolve) => setTimeout(() => resolve(answer), ms));
  }
}

/** A launched Stream Cache Server the test drives: its output lines, its exit, its reaction to signals. */
export class FakeProcess implements LaunchedProcess {
  /** FakeProcessTable's default start time: the journal and the reaper find the process there as launched. */
  startTime: string | undefined = '4242';
  readonly signals: NodeJS.Signals[] = [];
  exited = false;
  private goneOnly = false;
  readonly options: ScServerOptions;
  constructor(
    readonly pid: number,
    readonly command: LaunchCommand,
    private readonly handlers: LaunchHandlers,
    private readonly launcher: FakeLauncher,
  ) {
    this.options = parseArgv(command.args);
  }

  get id(): string {
    return this.options.id!;
  }

  get port(): number {
    return this.options.scPort!;
  }

  signalGroup(signal: NodeJS.Signals): boolean {
    this.signals.push(signal);
    if (this.exited) return false;
    this.launcher.onSignal?.(this, signal);
    return true;
  }

  line(stream: 'stdout' | 'stderr', text: string): void {
    this.handlers.onLine(stream, text);
  }

  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (this.exited && !this.goneOnly) throw new Error(`fake process ${this.pid} exited twice`);
    this.gone();
    this.goneOnly = false;
    this.handlers.onExit({ code, signal });
  }

  /** The process is gone but its last output not yet read: exit() is still to come. */
  gone(): void {
    if (this.exited) return;
    this.exited = true;
    this.goneOnly = true;
    this.handlers.onProcessGone?.();
  }

  failToStart(error: Error): void {
    this.exited = true;
    this.handlers.onExit({ code: null, signal: null, error });
  }
}

/** What a scripted launch does to its process, once the caller has started waiting. */
export type FakeBehaviour = (process: FakeProcess) => void;

/**
 * Records launches; the test drives output and exits. onSignal lets a test make processes react to signals.
 * Each launch also runs the next behaviour of `script` (after the caller has started waiting), or nothing once the
 * script is used up.
 */
export class FakeLauncher extends ProcessLauncher {
  readonly launched: FakeProcess[] = [];
  readonly script: FakeBehaviour[] = [];
  onSignal?: (process: FakeProcess, signal: NodeJS.Signals) => void;
  throwOnLaunch?: Error;
  private nextPid = 1000;

  launch(command: LaunchCommand, handlers: LaunchHandlers): LaunchedProcess {
    if (this.throwOnLaunch) throw this.throwOnLaunch;
    const process = new FakeProcess(this.nextPid++, command, handlers, this);
    this.launched.push(process);
    const behaviour = this.script.shift();
    if (behaviour) setImmediate(() => behaviour(process));
    return process;
  }

  byId(id: string): FakeProcess {
    const found = this.launched.find((p) => p.id === id);
    if (!found) throw new Error(`no fake process for ${id}`);
    return found;
  }
}

/** Processes exit (asynchronously, like a real one) on the given signals. */
export const exitOn =
  (...signals: NodeJS.Signals[]) =>
  (process: FakeProcess, signal: NodeJS.Signals) => {
    if (signals.includes(signal)) setImmediate(() => !process.exited && process.exit(null, signal));
  };

export const LIVELINESS_BASE_URL = 'http://127.0.0.1:11182/liveliness';

/** Keeps the journal in memory; `saved` has every list the supervisor wrote, in order. */
export class MemorySpawnJournal extends SpawnJournal {
  readonly saved: JournalEntry[][] = [];
  entries: JournalEntry[] = [];
  save(entries: readonly JournalEntry[]): void {
    this.entries = [...entries];
    this.saved.push(this.entries);
  }
  load(): Journal {
    return { entries: [...this.entries] };
  }
}

/** What each process group costs, as the test sets it (pgid -> usage). */
export class FakeProcessUsage extends ProcessUsage {
  readonly groups = new Map<number, GroupUsage>();
  read(pgids: readonly number[]): Map<number, GroupUsage> {
    return new Map(pgids.filter((p) => this.groups.has(p)).map((p) => [p, this.groups.get(p)!]));
  }
}

/** Files the test names: `files` maps a path to its text; `executables` and `realpaths` answer the other questions. */
export class FakeFileSystem extends FileSystem {
  readonly files = new Map<string, string>();
  readonly executables = new Set<string>();
  readonly realpaths = new Map<string, string>();
  /** Permission bits by path; a file not listed is 0600. */
  readonly modes = new Map<string, number>();
  /** Why another user could change a file or folder, by path; one not listed is safe. */
  readonly untrusted = new Map<string, string>();
  readText(file: string, maxBytes: number): string {
    const text = this.files.get(file);
    if (text === undefined) throw new Error(`ENOENT: no such file, open '${file}'`);
    return text.slice(0, maxBytes);
  }
  readTrustedText(file: string, maxBytes: number): string {
    const text = this.readText(file, maxBytes + 1);
    if (text.length > maxBytes) throw new Error(`it is larger than ${maxBytes} bytes`);
    return text;
  }
  realpath(file: string): Promise<string> {
    const real = this.realpaths.get(file);
    return real === undefined ? Promise.reject(new Error(`ENOENT: ${file}`)) : Promise.resolve(real);
  }
  executableProblem(file: string): string | undefined {
    return this.executables.has(file) ? undefined : 'does not exist';
  }
  untrustedCodeProblem(file: string): string | undefined {
    return this.untrusted.get(file);
  }
  untrustedFolderProblem(folder: string): string | undefined {
    return this.untrusted.get(folder);
  }
  modeOf(file: string): number {
    return this.modes.get(file) ?? 0o600;
  }
}

export interface SupervisorTestingOverrides {
  journal?: MemorySpawnJournal;
  clock?: FakeClock;
  probe?: FakePortProbe;
  launcher?: FakeLauncher;
  livelinessBaseUrl?: string;
  schedulingFiles?: FakeSchedulingFiles;
}

/**
 * The real SupervisorModule (facade, collaborators, PortAllocator, SecretRedactor...) compiled with the given
 * config and fakes in place of the adapters: the clock, the port probe, the process launcher, the journal and
 * the liveliness endpoint. Lifecycle hooks do not run (no sweep interval, no orphan reaping).
 */
export async function supervisorTestingModule(config: AppConfig, overrides: SupervisorTestingOverrides = {}) {
  const clock = overrides.clock ?? new FakeClock();
  const probe = overrides.probe ?? new FakePortProbe();
  const launcher = overrides.launcher ?? new FakeLauncher();
  const livelinessBaseUrl = overrides.livelinessBaseUrl ?? LIVELINESS_BASE_URL;
  const journal = overrides.journal ?? new MemorySpawnJournal();
  const usage = new FakeProcessUsage();
  const moduleRef: TestingModule = await Test.createTestingModule({
    imports: [AppConfigModule.forRoot(), AdaptersModule, ScheduleModule.forRoot(), SupervisorModule],
  })
    .overrideProvider(AppConfig)
    .useValue(config)
    .overrideProvider(Clock)
    .useValue(clock)
    .overrideProvider(PortProbe)
    .useValue(probe)
    .overrideProvider(ProcessLauncher)
    .useValue(launcher)
    .overrideProvider(LivelinessEndpoint)
    .useValue({ baseUrl: () => livelinessBaseUrl })
    .overrideProvider(SpawnJournal)
    .useValue(journal)
    .overrideProvider(ProcessTable)
    .useValue(new FakeProcessTable())
    .overrideProvider(ProcessUsage)
    .useValue(usage)
    .overrideProvider(SchedulingFiles)
    .useValue(overrides.schedulingFiles ?? plainNiceMachine())
    .compile();
  Logger.overrideLogger(false); // compile() installs Nest's TestingLogger, which prints errors
  return { moduleRef, clock, probe, launcher, journal, usage };
}

/** Lets pending setImmediate callbacks (and the promise jobs before them) run. */
export const flush = () => new Promise((resolve) => setImmediate(resolve));

/** Whether the allocator holds a lease on this port (read from its private state: the API has no need of it). */
export function isLeased(ports: PortAllocator, port: number): boolean {
  return (ports as unknown as { leased: ReadonlySet<number> }).leased.has(port);
}

/** The spawn as supervisor.get() shows it at the moment each property is read (views themselves are frozen copies). */
export function liveView(supervisor: SupervisorService, id: string): SpawnView {
  const now = () => supervisor.get(id)!;
  return new Proxy({} as SpawnView, {
    get: (_, key) => now()[key as keyof SpawnView],
    ownKeys: () => Reflect.ownKeys(now()),
    getOwnPropertyDescriptor: (_, key) => ({ ...Reflect.getOwnPropertyDescriptor(now(), key), configurable: true }),
  });
}

/** The real event stream, counting who is subscribed to it (the SSE routes subscribe once per open stream). */
export class CountedSpawnEvents extends SpawnEvents {
  subscribers = 0;
  override get changes$(): Observable<SpawnEvent> {
    const inner = super.changes$;
    return new Observable<SpawnEvent>((subscriber) => {
      this.subscribers++;
      const subscription = inner.subscribe(subscriber);
      return () => {
        this.subscribers--;
        subscription.unsubscribe();
      };
    });
  }
}
