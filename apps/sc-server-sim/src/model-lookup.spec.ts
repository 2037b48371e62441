import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { findModel } from './model-lookup';

describe('findModel', () => {
  let root: string;
  let first: string;
  let second: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'sc-sim-models-'));
    first = join(root, 'first dir');
    second = join(root, 'second');
    mkdirSync(first);
    mkdirSync(second);
    writeFileSync(join(first, 'engine.scz'), 'scz');
    mkdirSync(join(second, 'bracket')); // a model stored as a folder
    writeFileSync(join(second, 'engine.scz'), 'scz');
    mkdirSync(join(second, 'dir-named.scz')); // a folder called <name>.scz is not a .scz file
    writeFileSync(join(second, 'plainfile'), 'not a folder'); // a file without .scz is not a folder model
    mkdirSync(join(second, 'sub'));
    writeFileSync(join(second, 'sub', 'part.scz'), 'scz');
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finds <dir>/<name>.scz', () => {
    expect(findModel('engine', [first])).toBe(join(first, 'engine.scz'));
  });

  it('finds a folder <dir>/<name>', () => {
    expect(findModel('bracket', [first, second])).toBe(join(second, 'bracket'));
  });

  it('searches the directories in order', () => {
    expect(findModel('engine', [second, first])).toBe(join(second, 'engine.scz'));
    expect(findModel('engine', [first, second])).toBe(join(first, 'engine.scz'));
  });

  it('accepts a name with a subfolder', () => {
    expect(findModel('sub/part', [second])).toBe(join(second, 'sub', 'part.scz'));
  });

  it('does not find what is not there or is the wrong kind', () => {
    expect(findModel('missing', [first, second])).toBeUndefined();
    expect(findModel('dir-named', [second])).toBeUndefined();
    expect(findModel('plainfile', [second])).toBeUndefined();
    expect(findModel('engine', [])).toBeUndefined();
    expect(findModel('engine', [join(root, 'no such dir'), join(first, 'engine.scz')])).toBeUndefined();
  });

  it('never looks up an empty name, no name or a fault selector', () => {
    expect(findModel('', [first])).toBeUndefined();
    expect(findModel(null, [first])).toBeUndefined();
    expect(findModel(undefined, [first])).toBeUndefined();
    writeFileSync(join(first, 'scsim:never-ready.scz'), 'decoy');
    expect(findModel('scsim:never-ready', [first])).toBeUndefined();
  });

  it('skips empty directory entries', () => {
    expect(findModel('engine', ['', first])).toBe(join(first, 'engine.scz'));
  });
});
