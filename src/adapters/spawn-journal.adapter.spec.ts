import { Logger } from '@nestjs/common';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { parseAppConfig } from '../config/app-config';
import { FileSpawnJournal } from './spawn-journal.adapter';

describe('FileSpawnJournal', () => {
  let dir: string;
  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'sc-journal-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const journalIn = (stateDir: string) => new FileSpawnJournal(parseAppConfig({ SC_STATE_DIR: stateDir }));

  it('round-trips the entries through a file in SC_STATE_DIR, and removes the file when none are left', () => {
    const stateDir = path.join(dir, 'state');
    const journal = journalIn(stateDir);
    const entries = [{ id: 'a', pid: 4242, wsPort: 55000 }];
    journal.save(entries);
    expect(journalIn(stateDir).load()).toEqual(entries);
    expect(readdirSync(stateDir)).toEqual(['spawns.json']);
    journal.save([]);
    expect(existsSync(path.join(stateDir, 'spawns.json'))).toBe(false);
    expect(existsSync(stateDir)).toBe(true); // a folder the user chose stays
    expect(journal.load()).toEqual([]);
  });

  it('ignores an unreadable file and malformed entries', () => {
    writeFileSync(path.join(dir, 'spawns.json'), '{not json');
    expect(journalIn(dir).load()).toEqual([]);
    writeFileSync(
      path.join(dir, 'spawns.json'),
      JSON.stringify([{ id: 'ok', pid: 77, wsPort: 1 }, { id: 'x', pid: 1, wsPort: 2 }, { pid: 5 }, null]),
    );
    expect(journalIn(dir).load()).toEqual([{ id: 'ok', pid: 77, wsPort: 1 }]);
  });

  it('defaults to a per-port folder in the temp folder, removed once no server runs', () => {
    const port = 40000 + (process.pid % 20000);
    const config = parseAppConfig({ PORT: String(port), SC_PORT_BASE: '20000' });
    expect(config.stateDir).toBe(path.join(tmpdir(), `sc-spawner-${port}`));
    const journal = new FileSpawnJournal(config);
    journal.save([{ id: 'a', pid: 4242, wsPort: 20000 }]);
    expect(existsSync(path.join(config.stateDir!, 'spawns.json'))).toBe(true);
    journal.save([]);
    expect(existsSync(config.stateDir!)).toBe(false);
  });

  it('keeps nothing for an ephemeral PORT without SC_STATE_DIR', () => {
    const config = parseAppConfig({ PORT: '0' });
    expect(config.stateDir).toBeUndefined();
    const journal = new FileSpawnJournal(config);
    journal.save([{ id: 'a', pid: 4242, wsPort: 55000 }]);
    expect(journal.load()).toEqual([]);
  });
});
