import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { FakeProcessTable } from '../../test/fakes';
import { acquireInstanceLock, LOCK_FILE } from './instance-lock.adapter';

describe('acquireInstanceLock', () => {
  let dir: string;
  let processes: FakeProcessTable;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sc-lock-'));
    processes = new FakeProcessTable();
    processes.procs.set(process.pid, { argv: ['node', 'main.js'], startTime: '100' });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const lockFile = () => path.join(dir, LOCK_FILE);

  it('is held by one instance at a time, names the holder, and is released by its owner only', () => {
    const first = acquireInstanceLock(dir, processes);
    expect(first.held).toBe(true);
    expect(JSON.parse(readFileSync(lockFile(), 'utf8'))).toEqual({ pid: process.pid, startTime: '100' });
    expect(acquireInstanceLock(dir, processes)).toEqual({ held: false, holderPid: process.pid });
    if (first.held) first.release();
    expect(existsSync(lockFile())).toBe(false);
    expect(acquireInstanceLock(dir, processes).held).toBe(true);
  });

  it('takes over a lock left by a crash: its pid is gone, or now runs another process (other start time)', () => {
    writeFileSync(lockFile(), JSON.stringify({ pid: 999999, startTime: '5' }));
    expect(acquireInstanceLock(dir, processes).held).toBe(true);
    rmSync(lockFile());
    processes.procs.set(4321, { argv: ['bash'], startTime: '6' });
    writeFileSync(lockFile(), JSON.stringify({ pid: 4321, startTime: '5' }));
    expect(acquireInstanceLock(dir, processes).held).toBe(true);
  });

  it('takes over a lock whose holder was killed and is not reaped yet (a zombie)', () => {
    processes.procs.set(4321, { argv: [], startTime: '5', state: 'Z' });
    writeFileSync(lockFile(), JSON.stringify({ pid: 4321, startTime: '5' }));
    expect(acquireInstanceLock(dir, processes).held).toBe(true);
  });

  it('takes over an empty or unreadable lock file once its writer had time to write it', () => {
    writeFileSync(lockFile(), '');
    expect(acquireInstanceLock(dir, processes).held).toBe(true);
    writeFileSync(lockFile(), '{torn');
    expect(acquireInstanceLock(dir, processes).held).toBe(true);
  });
});
