import { execFileSync } from 'child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { NodeFileSystem } from './file-system.adapter';

describe('NodeFileSystem: reading files', () => {
  const files = new NodeFileSystem();
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'sc-files-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string, mode = 0o644) => {
    const at = path.join(dir, name);
    writeFileSync(at, text);
    chmodSync(at, mode);
    return at;
  };

  it('reads the start of a regular file, through a link too; never a device or a FIFO (which is not waited for)', () => {
    const text = file('a.txt', 'abcdef');
    expect(files.readText(text, 4)).toBe('abcd');
    symlinkSync(text, path.join(dir, 'link'));
    expect(files.readText(path.join(dir, 'link'), 100)).toBe('abcdef');
    symlinkSync('/dev/zero', path.join(dir, 'zero'));
    expect(() => files.readText(path.join(dir, 'zero'), 100)).toThrow('it is not a regular file');
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    expect(() => files.readText(path.join(dir, 'fifo'), 100)).toThrow('it is not a regular file');
  });

  it('believes a whole file only if no one else may have written it, nor swapped it, and it is not too large', () => {
    expect(files.readTrustedText(file('ok.js', 'x = 1'), 5)).toBe('x = 1');
    expect(() => files.readTrustedText(file('big.js', 'x = 10'), 5)).toThrow('it is larger than 5 bytes');
    expect(() => files.readTrustedText(file('open.js', 'x', 0o666), 5)).toThrow(
      'it is writable by group or others (mode 0666): chmod go-w it',
    );
    const shared = path.join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    writeFileSync(path.join(shared, 'in.js'), 'x');
    expect(() => files.readTrustedText(path.join(shared, 'in.js'), 5)).toThrow(
      `it is reached through ${shared}, which is writable by group or others without the sticky bit (mode 777)`,
    );
    const link = path.join(dir, 'link.js');
    symlinkSync(path.join(shared, 'in.js'), link); // the file where the link leads is what counts
    expect(() => files.readTrustedText(link, 5)).toThrow(`it is in ${shared}`);
    if (process.getuid!() !== 0) return; // only root can give files away
    const theirs = file('theirs.js', 'x');
    chownSync(theirs, 1001, 1001);
    expect(() => files.readTrustedText(theirs, 5)).toThrow("it belongs to uid 1001, not to root or the service's user");
    // Another user's link to a file of root's (in a sticky folder, as /tmp): its owner may point it elsewhere later.
    const sticky = path.join(dir, 'sticky');
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    const theirLink = path.join(sticky, 'keys');
    symlinkSync(file('good.js', 'x'), theirLink);
    execFileSync('chown', ['-h', '1001:1001', theirLink]);
    expect(() => files.readTrustedText(theirLink, 5)).toThrow(`it is the link ${theirLink}, which belongs to uid 1001`);
  });
});

describe('NodeFileSystem: code another user could change', () => {
  const files = new NodeFileSystem();
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sc-code-'));
    chmodSync(dir, 0o755);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const executable = (folder: string, mode = 0o755) => {
    mkdirSync(folder, { recursive: true });
    const at = path.join(folder, 'ts3d_sc_server');
    writeFileSync(at, '#!/bin/sh\n');
    chmodSync(at, mode);
    return at;
  };

  it('none in a folder of this user that only it may write to; a missing file is not its to say', () => {
    expect(files.untrustedCodeProblem(executable(path.join(dir, 'bin')))).toBeUndefined();
    expect(files.untrustedCodeProblem(path.join(dir, 'missing'))).toBeUndefined();
  });

  it('the file itself writable by others', () => {
    expect(files.untrustedCodeProblem(executable(path.join(dir, 'bin'), 0o777))).toBe(
      'it is writable by group or others (mode 0777): chmod go-w it',
    );
  });

  it('its folder writable by others, even with the sticky bit (as /tmp): a library put there is loaded', () => {
    const sticky = path.join(dir, 'sticky');
    const file = executable(sticky);
    chmodSync(sticky, 0o1777);
    expect(files.untrustedCodeProblem(file)).toBe(
      `its folder ${sticky} is writable by group or others (mode 1777): a library put there is loaded by every ` +
        'server (LD_LIBRARY_PATH)',
    );
    // Reached through a link from a safe folder: the folder where it leads counts as well.
    const link = path.join(dir, 'link');
    symlinkSync(file, link);
    expect(files.untrustedCodeProblem(link)).toMatch(`its folder ${sticky} is writable by group or others`);
  });

  it('a folder above it where others may rename what is in it', () => {
    const shared = path.join(dir, 'shared');
    const file = executable(path.join(shared, 'bin'));
    chmodSync(shared, 0o777);
    expect(files.untrustedCodeProblem(file)).toBe(
      `it is reached through ${shared}, which is writable by group or others without the sticky bit (mode 777)`,
    );
  });

  (process.getuid?.() === 0 ? it : it.skip)("another user's file, or their folder", () => {
    const file = executable(path.join(dir, 'bin'));
    chownSync(file, 1001, 1001);
    expect(files.untrustedCodeProblem(file)).toBe("it belongs to uid 1001, not to root or the service's user");
    chownSync(file, 0, 0);
    chownSync(path.join(dir, 'bin'), 1001, 1001);
    expect(files.untrustedCodeProblem(file)).toBe(
      `it is reached through ${path.join(dir, 'bin')}, which belongs to uid 1001, who may rename what is in it`,
    );
  });
});

describe("NodeFileSystem: a folder for the servers' files", () => {
  const files = new NodeFileSystem();
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sc-work-'));
    chmodSync(dir, 0o755);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a folder of this user, or one shared with the sticky bit (as /tmp), through a link too', () => {
    const own = path.join(dir, 'own');
    mkdirSync(own, { mode: 0o700 });
    expect(files.untrustedFolderProblem(own)).toBeUndefined();
    const sticky = path.join(dir, 'sticky');
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    expect(files.untrustedFolderProblem(sticky)).toBeUndefined();
    symlinkSync(own, path.join(dir, 'link'));
    expect(files.untrustedFolderProblem(path.join(dir, 'link'))).toBeUndefined();
  });

  it('missing, not a folder, or one where any user may rename and add files', () => {
    expect(files.untrustedFolderProblem(path.join(dir, 'missing'))).toBe('does not exist');
    writeFileSync(path.join(dir, 'file'), '');
    expect(files.untrustedFolderProblem(path.join(dir, 'file'))).toBe('is not a folder');
    const open = path.join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    expect(files.untrustedFolderProblem(open)).toBe(
      `could be changed by another user: ${open} is writable by group or others without the sticky bit (mode 777)`,
    );
    mkdirSync(path.join(open, 'inner'), { mode: 0o700 });
    expect(files.untrustedFolderProblem(path.join(open, 'inner'))).toMatch(`: ${open} is writable by group`);
  });

  (process.getuid?.() === 0 ? it : it.skip)("another user's folder, even 0700, or a link to it", () => {
    const theirs = path.join(dir, 'theirs');
    mkdirSync(theirs, { mode: 0o700 });
    chownSync(theirs, 1001, 1001);
    expect(files.untrustedFolderProblem(theirs)).toBe(
      `could be changed by another user: ${theirs} belongs to uid 1001, who may rename what is in it`,
    );
    symlinkSync(theirs, path.join(dir, 'link'));
    expect(files.untrustedFolderProblem(path.join(dir, 'link'))).toMatch(`${theirs} belongs to uid 1001`);
  });
});
