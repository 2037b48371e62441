import { spawn, type ChildProcess } from 'child_process';
import { createInterface } from 'readline';
import { SOCK_DIAG_SCRIPT } from './socket-diag.script';

/** One exact-match question to the kernel: a TCP socket by family and both ends (addresses as 32 hex digits). */
export interface DiagQuery {
  family: 2 | 10;
  src: string;
  sport: number;
  dst: string;
  dport: number;
}

/** A socket of this machine: its inode, and the user who owns it. */
export interface FoundSocket {
  inode: string;
  uid: number;
}

export type DiagAnswer = FoundSocket | 'absent' | 'unavailable';

/** A question the kernel has not answered within this long is answered 'unavailable' (the caller reads /proc). */
const ANSWER_TIMEOUT_MS = 1000;
const START_TIMEOUT_MS = 5000;

/** The perl co-process of socket-diag.script.ts: started once, asked many times, ended with the service. */
export class SockDiagProcess {
  private readonly pending = new Map<string, (answer: DiagAnswer) => void>();
  private gone = false;
  /** Names a question on the private pipe so its answer finds it; nothing else writes there. */
  private asked = 0;
  private endedHow = '';
  private readonly closedWaiters: Array<(how: string) => void> = [];

  private constructor(private readonly child: ChildProcess) {}

  /** Resolves once the process is gone, saying how it ended (`exit 1`, `SIGKILL`...). */
  closed(): Promise<string> {
    if (this.gone) return Promise.resolve(this.endedHow);
    return new Promise((resolve) => this.closedWaiters.push(resolve));
  }

  /** Starts the co-process; resolves once it said `ready`, or with the reason it cannot be used. */
  static start(perl: string): Promise<SockDiagProcess | string> {
    return new Promise((resolve) => {
      const child = spawn(perl, ['-e', SOCK_DIAG_SCRIPT], { stdio: ['pipe', 'pipe', 'ignore'], env: {} });
      const diag = new SockDiagProcess(child);
      let started = false;
      const settle = (result: SockDiagProcess | string) => {
        if (started) return;
        started = true;
        clearTimeout(timer);
        if (typeof result === 'string') void diag.stop();
        resolve(result);
      };
      const timer = setTimeout(() => settle('it did not start within 5 s'), START_TIMEOUT_MS);
      child.stdin?.on('error', () => undefined);
      child.once('error', (error) => {
        diag.ended(error.message);
        settle(error.message);
      });
      child.once('close', (code, signal) => {
        diag.ended(signal ?? `exit ${code}`);
        settle(`it exited (${signal ?? code})`);
      });
      createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
        if (started) return diag.answer(line);
        settle(line === 'ready' ? diag : line.replace(/^unavailable /, ''));
      });
    });
  }

  get usable(): boolean {
    return !this.gone;
  }

  ask(query: DiagQuery): Promise<DiagAnswer> {
    if (this.gone || !this.child.stdin?.writable) return Promise.resolve('unavailable');
    const req = (this.asked++).toString(36);
    return new Promise((resolve) => {
      // No answer in time: the process is wedged (a recv that never returns); end it, so it is started afresh.
      const timer = setTimeout(() => {
        done('unavailable');
        this.child.kill('SIGKILL');
      }, ANSWER_TIMEOUT_MS);
      const done = (answer: DiagAnswer) => {
        clearTimeout(timer);
        this.pending.delete(req);
        resolve(answer);
      };
      this.pending.set(req, done);
      const { family, src, sport, dst, dport } = query;
      this.child.stdin!.write(`${req} ${family} ${src} ${sport} ${dst} ${dport}\n`);
    });
  }

  /** Ends the co-process (it exits when its stdin closes; SIGKILL after 2 s). */
  stop(): Promise<void> {
    const { child } = this;
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      child.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      child.stdin?.end();
    });
  }

  private answer(line: string): void {
    const [req, kind, value, uid] = line.split(' ');
    const done = this.pending.get(req);
    if (!done) return;
    if (kind === 'inode' && value && /^[1-9]\d{0,19}$/.test(value) && /^\d{1,10}$/.test(uid ?? ''))
      done({ inode: value, uid: Number(uid) });
    else if (kind === 'absent') done('absent');
    else done('unavailable');
  }

  private ended(how: string): void {
    if (this.gone) return;
    this.gone = true;
    this.endedHow = how;
    for (const done of [...this.pending.values()]) done('unavailable');
    for (const wake of this.closedWaiters.splice(0)) wake(how);
  }
}
