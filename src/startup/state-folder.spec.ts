import { execFileSync } from 'child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { ancestorProblem, existingFolderProblem, prepareStateFolder } from './state-folder';

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

  it('accepts a folder above only when root or the service user owns it, and a shared one only with the sticky bit', () => {
    expect(ancestorProblem(dir(0o1777, 0), own)).toBeUndefined(); // /tmp
    expect(ancestorProblem(dir(0o755, 0), own)).toBeUndefined();
    expect(ancestorProblem(dir(0o700, own), own)).toBeUndefined();
    expect(ancestorProblem({ ...dir(0o777), isSymlink: true }, own)).toBeUndefined();
    // Its owner may rename the state folder away and put another in its place, whatever its mode.
    expect(ancestorProblem(dir(0o755, 1001), own)).toBe('belongs to uid 1001, who may rename what is in it');
    expect(ancestorProblem({ ...dir(0o777, 1001), isSymlink: true }, own)).toMatch(/belongs to uid 1001/);
    expect(ancestorProblem(dir(0o777, 0), own)).toMatch(
      /writable by group or others without the sticky bit \(mode 777\)/,
    );
    expect(ancestorProblem(dir(0o777, own), own)).toMatch(/without the sticky bit/);
    expect(ancestorProblem(dir(0o775, 0), own)).toMatch(/without the sticky bit/);
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
    expect(() => prepareStateFolder(path.join(parent, 'state'), uid)).toThrow(
      `state folder ${parent}/state is below ${parent}, which is writable by group or others without the sticky bit (mode 777)`,
    );
  });

  it('refuses a folder below one of another user (who may rename it away), as written or where a link leads', () => {
    const theirs = path.join(root, 'theirs');
    mkdirSync(theirs, { mode: 0o755 });
    // As root, the folder is given to uid 1001; otherwise the service is taken to run as another user than the
    // folders' owner (the temp folder's own is then the first folder above that is not its or root's).
    const [serviceUid, first] = uid === 0 ? [0, theirs] : [uid + 1, root];
    if (uid === 0) chownSync(theirs, 1001, 1001);
    const owner = uid === 0 ? 1001 : uid;
    expect(() => prepareStateFolder(path.join(theirs, 'state'), serviceUid)).toThrow(
      `state folder ${theirs}/state is below ${first}, which belongs to uid ${owner}, who may rename what is in it`,
    );
    const link = path.join(root, 'link');
    symlinkSync(theirs, link);
    expect(() => prepareStateFolder(path.join(link, 'state'), serviceUid)).toThrow(
      `is below ${first}, which belongs to uid ${owner}`,
    );
  });

  it("creates no folder where another user's link leads: the folders that exist are checked first", () => {
    const target = path.join(root, 'target'); // a folder of the service's user (root's, say: /etc)
    mkdirSync(target, { mode: 0o755 });
    const sticky = path.join(root, 'sticky'); // as /tmp
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    const link = path.join(sticky, 'link');
    symlinkSync(target, link);
    // As root, the link is given to uid 1001; otherwise the service is taken to run as another user.
    if (uid === 0) execFileSync('chown', ['-h', '1001:1001', link]);
    const serviceUid = uid === 0 ? 0 : uid + 1;
    expect(() => prepareStateFolder(path.join(link, 'made', 'state'), serviceUid)).toThrow(/belongs to uid/);
    expect(existsSync(path.join(target, 'made'))).toBe(false);
  });
});
