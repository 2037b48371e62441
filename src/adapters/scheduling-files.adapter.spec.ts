import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { ProcSchedulingFiles } from './scheduling-files.adapter';

describe('ProcSchedulingFiles', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'sc-sched-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("lists a group's child groups, not its interface files (as a cgroup folder holds both)", () => {
    mkdirSync(path.join(dir, 'servers'));
    mkdirSync(path.join(dir, 'service'));
    writeFileSync(path.join(dir, 'cgroup.procs'), '');
    writeFileSync(path.join(dir, 'cpu.shares'), '1024');
    expect(new ProcSchedulingFiles().list(dir).sort()).toEqual(['servers', 'service']);
    expect(new ProcSchedulingFiles().list(path.join(dir, 'missing'))).toEqual([]);
  });

  it('makes a new group only: one that exists is refused (EEXIST), as is one whose parent is missing', () => {
    const files = new ProcSchedulingFiles();
    files.makeNewDir(path.join(dir, 'sc-spawner-7-1'));
    expect(() => files.makeNewDir(path.join(dir, 'sc-spawner-7-1'))).toThrow(
      expect.objectContaining({ code: 'EEXIST' }),
    );
    expect(() => files.makeNewDir(path.join(dir, 'missing', 'servers'))).toThrow(
      expect.objectContaining({ code: 'ENOENT' }),
    );
  });
});
