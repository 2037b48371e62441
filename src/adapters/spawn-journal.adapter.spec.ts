import { Logger } from '@nestjs/common';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { parseAppConfig, pickSection, SERVERS_SETTINGS } from '../config';
import { ProcProcessTable } from './process-table.adapter';
import { FileSpawnJournal, JournalEntry } from './spawn-journal.adapter';

describe('FileSpawnJournal', () => {
  let dir: string;
  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'sc-journal-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const journalIn = (stateDir: string) =>
    new FileSpawnJournal(
      pickSection(parseAppConfig({ SC_STATE_DIR: stateDir }), SERVERS_SETTINGS),
      new ProcProcessTable(),
    );
  const entry = (id: string, pid = 4242): JournalEntry => ({
    id,
    pid,
    wsPort: 55000,
    startTime: '123',
    argsHash: 'ab',
    argCount: 3,
  });

  it('round-trips the entries with its writer (pid and start time), and removes the file when none are left', () => {
    const journal = journalIn(dir);
    journal.save([entry('a')]);
    const loaded = journalIn(dir).load();
    expect(loaded.entries).toEqual([entry('a')]);
    expect(loaded.writer).toEqual({ pid: process.pid, startTime: expect.stringMatching(/^\d+$/) as unknown });
    expect(readdirSync(dir)).toEqual(['spawns.json']);
    journal.save([]);
    expect(existsSync(path.join(dir, 'spawns.json'))).toBe(false);
    expect(existsSync(dir)).toBe(true);
    expect(journal.load()).toEqual({ entries: [] });
  });

  it('says a journal is of this boot only when it carries the running kernel boot id', () => {
    journalIn(dir).save([entry('a')]);
    const file = path.join(dir, 'spawns.json');
    const written = JSON.parse(readFileSync(file, 'utf8')) as { bootId: string; writer: unknown };
    expect(written.bootId).toBe(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    expect(journalIn(dir).load().sameBoot).toBe(true);
    // A state folder that outlived a reboot, and a journal of an older version (no boot id).
    writeFileSync(file, JSON.stringify({ ...written, bootId: '00000000-0000-0000-0000-000000000000' }), {
      mode: 0o600,
    });
    expect(journalIn(dir).load().sameBoot).toBeUndefined();
    writeFileSync(file, JSON.stringify({ ...written, bootId: undefined }), { mode: 0o600 });
    expect(journalIn(dir).load()).toEqual({ writer: written.writer, entries: [entry('a')] });
  });

  it('ignores an unreadable file, a file of an older version and malformed entries', () => {
    writeFileSync(path.join(dir, 'spawns.json'), '{not json');
    expect(journalIn(dir).load()).toEqual({ entries: [] });
    writeFileSync(path.join(dir, 'spawns.json'), JSON.stringify([{ id: 'old', pid: 77, wsPort: 1 }]));
    expect(journalIn(dir).load()).toEqual({ entries: [] });
    const entries = [entry('ok', 77), { ...entry('x'), pid: 1 }, { id: 'y', pid: 5, wsPort: 1 }, null];
    writeFileSync(path.join(dir, 'spawns.json'), JSON.stringify({ entries }));
    expect(journalIn(dir).load()).toEqual({ writer: undefined, entries: [entry('ok', 77)] });
  });

  it('does not believe a journal another user could have written: writable by others, a link, or not its own', () => {
    const file = path.join(dir, 'spawns.json');
    const content = JSON.stringify({ entries: [entry('planted', 77)] });
    writeFileSync(file, content);
    expect(journalIn(dir).load().entries).toEqual([entry('planted', 77)]);
    chmodSync(file, 0o666);
    expect(journalIn(dir).load()).toEqual({ entries: [] });
    rmSync(file);
    const elsewhere = path.join(dir, 'elsewhere.json');
    writeFileSync(elsewhere, content);
    symlinkSync(elsewhere, file);
    expect(journalIn(dir).load()).toEqual({ entries: [] });
    if (process.getuid!() !== 0) return; // only root can give a file away
    rmSync(file);
    writeFileSync(file, content, { mode: 0o600 });
    chownSync(file, 1001, 1001);
    expect(journalIn(dir).load()).toEqual({ entries: [] });
  });

  it('never follows a planted symlink: the temporary file is created exclusively, under a name nobody can guess', () => {
    const victim = path.join(dir, 'victim');
    writeFileSync(victim, 'precious');
    const stateDir = path.join(dir, 'state');
    mkdirSync(stateDir, { mode: 0o700 });
    for (const name of [`spawns.json.${process.pid}.tmp`, 'spawns.json.tmp']) {
      symlinkSync(victim, path.join(stateDir, name));
    }
    journalIn(stateDir).save([entry('a')]);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(journalIn(stateDir).load().entries).toEqual([entry('a')]);
  });

  it('defaults to a per-port folder in the temp folder, or in the runtime folder systemd or the session gives', () => {
    const port = 40000 + (process.pid % 20000);
    expect(parseAppConfig({ PORT: String(port), SC_PORT_BASE: '20000' }).stateDir).toBe(
      path.join(tmpdir(), `sc-spawner-${port}`),
    );
    const env = { PORT: '8080', XDG_RUNTIME_DIR: '/run/user/1000' };
    expect(parseAppConfig(env).stateDir).toBe('/run/user/1000/sc-spawner-8080');
    expect(parseAppConfig({ ...env, STATE_DIRECTORY: '/var/lib/sc:/var/lib/x' }).stateDir).toBe(
      '/var/lib/sc/sc-spawner-8080',
    );
    expect(parseAppConfig({ ...env, RUNTIME_DIRECTORY: '/run/sc', STATE_DIRECTORY: '/var/lib/sc' }).stateDir).toBe(
      '/run/sc/sc-spawner-8080',
    );
    expect(parseAppConfig({ ...env, XDG_RUNTIME_DIR: 'relative' }).stateDir).toBe(
      path.join(tmpdir(), 'sc-spawner-8080'),
    );
  });

  it('keeps nothing for an ephemeral PORT without SC_STATE_DIR', () => {
    const config = parseAppConfig({ PORT: '0' });
    expect(config.stateDir).toBeUndefined();
    const journal = new FileSpawnJournal(pickSection(config, SERVERS_SETTINGS), new ProcProcessTable());
    journal.save([entry('a')]);
    expect(journal.load()).toEqual({ entries: [] });
  });
});
