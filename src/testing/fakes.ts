/**
 * Test-only fakes shared by the unit specs: a clock, a port probe, a process launcher and the Nest testing module
 * that wires them into the supervisor. Not part of the production build (tsconfig.build.json excludes src/testing).
 */
import { Logger, Provider } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { parseArgv, ScServerOptions } from '@app/sc-protocol';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { PortAllocator } from '../ports/port-allocator.service';
import { PortProbe } from '../ports/port-probe';
import { LivelinessEndpoint } from '../supervisor/liveliness-endpoint';
import { LaunchCommand, LaunchedProcess, LaunchHandlers, ProcessLauncher } from '../supervisor/process-launcher';
import { SecretRedactor } from '../supervisor/secret-redactor';
import { SpawnEvents } from '../supervisor/spawn-events';
import { SupervisorService } from '../supervisor/supervisor.service';
import { ProcessTable } from '../supervisor/process-table';
import { JournalEntry, SpawnJournal } from '../supervisor/spawn-journal';

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

/** Ports in `busy` are held by "another program"; every probe is recorded. Optionally answers after a delay. */
export class FakePortProbe extends PortProbe {
  readonly busy = new Set<number>();
  readonly probed: number[] = [];
  delay?: () => number;
  isFree(port: number): Promise<boolean> {
    this.probed.push(port);
    const answer = !this.busy.has(port);
    const ms = this.delay?.();
    if (ms === undefined) return Promise.resolve(answer);
    return new Promise((resolve) => setTimeout(() => resolve(answer), ms));
  }
}

/** A launched Stream Cache Server the test drives: its output lines, its exit, its reaction to signals. */
export class FakeProcess implements LaunchedProcess {
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
  load(): JournalEntry[] {
    return [...this.entries];
  }
}

/** A process table the test fills in: pid -> argv; records the groups it was asked to kill. */
export class FakeProcessTable extends ProcessTable {
  readonly commandLines = new Map<number, string[]>();
  readonly killed: Array<[number, NodeJS.Signals]> = [];
  commandLine(pid: number): string[] | undefined {
    return this.commandLines.get(pid);
  }
  killGroup(pgid: number, signal: NodeJS.Signals): boolean {
    this.killed.push([pgid, signal]);
    return this.commandLines.delete(pgid);
  }
}

export interface SupervisorTestingOverrides {
  journal?: MemorySpawnJournal;
  clock?: FakeClock;
  probe?: FakePortProbe;
  launcher?: FakeLauncher;
  livelinessBaseUrl?: string;
  /** More providers, e.g. the service under test, put in front of the supervisor's. */
  providers?: Provider[];
}

/**
 * Compiles a Nest testing module with the real SupervisorService, SpawnEvents, SecretRedactor and PortAllocator,
 * the given config, and fakes for the clock, the port probe, the process launcher and the liveliness endpoint.
 */
export async function supervisorTestingModule(config: AppConfig, overrides: SupervisorTestingOverrides = {}) {
  const clock = overrides.clock ?? new FakeClock();
  const probe = overrides.probe ?? new FakePortProbe();
  const launcher = overrides.launcher ?? new FakeLauncher();
  const livelinessBaseUrl = overrides.livelinessBaseUrl ?? LIVELINESS_BASE_URL;
  const journal = overrides.journal ?? new MemorySpawnJournal();
  const moduleRef: TestingModule = await Test.createTestingModule({
    providers: [
      ...(overrides.providers ?? []),
      SupervisorService,
      SpawnEvents,
      SecretRedactor,
      PortAllocator,
      { provide: AppConfig, useValue: config },
      { provide: Clock, useValue: clock },
      { provide: PortProbe, useValue: probe },
      { provide: ProcessLauncher, useValue: launcher },
      { provide: LivelinessEndpoint, useValue: { baseUrl: () => livelinessBaseUrl } },
      { provide: SpawnJournal, useValue: journal },
    ],
  }).compile();
  Logger.overrideLogger(false); // compile() installs Nest's TestingLogger, which prints errors
  return { moduleRef, clock, probe, launcher, journal };
}

/** Lets pending setImmediate callbacks (and the promise jobs before them) run. */
export const flush = () => new Promise((resolve) => setImmediate(resolve));
