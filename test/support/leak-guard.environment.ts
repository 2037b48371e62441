import { readFileSync, readdirSync } from 'fs';
import { TestEnvironment } from 'jest-environment-node';

/**
 * Jest's node environment, plus a check when a test file ends: a child process still running or a server
 * still listening in this worker fails the file, naming what was left. Left behind, either one keeps the
 * worker from exiting and ends `npm test` with "A worker process has failed to exit gracefully".
 *
 * A child that was just signalled may need a moment to exit, so the check waits up to GRACE_MS before
 * deciding. Zombies (exited, not yet reaped) do not count.
 */
const GRACE_MS = 3_000;
const POLL_MS = 50;

export default class LeakGuardEnvironment extends TestEnvironment {
  override async teardown(): Promise<void> {
    const leftovers = await settledLeftovers();
    await super.teardown();
    if (leftovers.length > 0) {
      throw new Error(`this test file left behind: ${leftovers.join('; ')}`);
    }
  }
}

async function settledLeftovers(): Promise<string[]> {
  const deadline = Date.now() + GRACE_MS;
  for (;;) {
    const children = liveChildren();
    const found = [...children.map((child) => child.description), ...listeningServers()];
    if (found.length === 0) return found;
    if (Date.now() >= deadline) {
      // Reported, then ended, so that the leak fails this file and does not outlive the run.
      for (const child of children) killQuietly(child.pid);
      return found;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function liveChildren(): { pid: number; description: string }[] {
  const children: { pid: number; description: string }[] = [];
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = safeRead(`/proc/${entry}/stat`);
    if (stat === undefined) continue;
    const close = stat.lastIndexOf(')');
    const [state, ppid] = stat.slice(close + 2).split(' ');
    if (Number(ppid) !== process.pid || state === 'Z' || state === 'X') continue;
    const command = (safeRead(`/proc/${entry}/cmdline`) ?? '').split('\0').join(' ').trim();
    children.push({
      pid: Number(entry),
      description: `child process ${entry} (${command.slice(0, 120) || stat.slice(stat.indexOf('(') + 1, close)})`,
    });
  }
  return children;
}

function listeningServers(): string[] {
  // process.getActiveResourcesInfo() names a Unix-socket server 'PipeWrap', like the worker's own pipes; the
  // handles themselves tell a listening server (TCP or Unix socket) apart.
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  const servers = handles.filter(
    (handle): handle is { address(): unknown } =>
      typeof (handle as { address?: unknown }).address === 'function' &&
      (handle as { listening?: unknown }).listening === true,
  );
  return servers.map((server) => `a listening server (${JSON.stringify(server.address())})`);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function safeRead(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
