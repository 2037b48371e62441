import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { existingFolderProblem, parentFolderProblem, prepareStateFolder } from './state-folder';

describe('state folder rules', () => {
  const own = 1000;
  const dir = (mode: number, uid = own) => ({ isDirectory: true, isSymlink: false, uid, mode: 0o40000 | mode });

  it('accepts only a real folder of the service user that group and others cannot write', () => {
    expect(existingFolderProblem(dir(0o700), own)).toBeUndefined();
    expect(existingFolderProblem(dir(0o755), own)).toBeUndefined(); // tightened to 0700 afterwards
    expect(existingFolderProblem(dir(0o700, 0), own)).toBe("belongs to uid 0, not to the service's user (uid 1000)");
    expect(existingFolderProblem(dir(0o770), own)).toBe('is writable by group or others (mode 0770)');
    expect(existingFolderProblem(dir(0o1777), own)).toBe('is writable by group or others (mode 1777)');
    expect(existingFolderProblem({ ...dir(0o700), isSymlink: true }, own)).toBe('is a symbolic link');
    expect(existingFolderProblem({ ...dir(0o700), isDirectory: false }, own)).toBe('is not a folder');
  });

  it("accepts a shared parent only with the sticky bit or when it is the service user's", () => {
    expect(parentFolderProblem(dir(0o1777, 0), own)).toBeUndefined(); // /tmp
    expect(parentFolderProblem(dir(0o755, 0), own)).toBeUndefined();
    expect(parentFolderProblem(dir(0o777, own), own)).toBeUndefined();
    expect(parentFolderProblem(dir(0o777, 0), own)).toMatch(/writable by others without the sticky bit/);
  });
});

describe('prepareStateFolder', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(path.join(tmpdir(), 'sc-state-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const uid = process.getuid!();

  it('creates a missing folder with mode 0700, and tightens an existing one of ours to 0700', () => {
    const created = path.join(root, 'new');
    prepareStateFolder(created, uid);
    expect(statSync(created).mode & 0o777).toBe(0o700);
    const existing = path.join(root, 'old');
    mkdirSync(existing, { mode: 0o755 });
    chmodSync(existing, 0o755);
    prepareStateFolder(existing, uid);
    expect(statSync(existing).mode & 0o777).toBe(0o700);
  });

  it('refuses, naming the folder, a group-writable folder, a symlink, and a folder of another user', () => {
    const writable = path.join(root, 'writable');
    mkdirSync(writable);
    chmodSync(writable, 0o775);
    expect(() => prepareStateFolder(writable, uid)).toThrow(
      `state folder ${writable} is writable by group or others (mode 0775)`,
    );
    const link = path.join(root, 'link');
    symlinkSync(root, link);
    expect(() => prepareStateFolder(link, uid)).toThrow(`state folder ${link} is a symbolic link`);
    expect(() => prepareStateFolder(root, uid + 1)).toThrow(/belongs to uid/);
  });

  it('refuses a folder in a world-writable parent without the sticky bit', () => {
    const parent = path.join(root, 'shared');
    mkdirSync(parent);
    chmodSync(parent, 0o777);
    expect(() => prepareStateFolder(path.join(parent, 'state'), uid + 1)).toThrow(
      /state folder .*shared\/state its parent folder is writable by others without the sticky bit/,
    );
  });
});
