import { openModelDirProblem } from './model-dirs';

const chain = (...modes: number[]) =>
  ['/', '/srv', '/srv/shared', '/srv/shared/models']
    .slice(0, modes.length)
    .map((folder, i) => ({ folder, mode: modes[i] }));

describe('openModelDirProblem', () => {
  it('a folder only its owner may change, under folders the same: none', () => {
    expect(openModelDirProblem(chain(0o755, 0o755, 0o755, 0o700))).toBeUndefined();
  });

  it('the folder itself writable by all, sticky or not: said', () => {
    expect(openModelDirProblem(chain(0o755, 0o755, 0o755, 0o1777))).toMatch(
      /^is writable by every local user \(mode 1777\)/,
    );
  });

  it('a folder above writable by all without the sticky bit: any user can swap the model folder', () => {
    expect(openModelDirProblem(chain(0o755, 0o755, 0o777, 0o755))).toBe(
      'is in /srv/shared, which every local user may write to without the sticky bit (mode 0777): any of them may ' +
        'put a folder of theirs, with the models viewers open, in its place; chmod o-w /srv/shared',
    );
  });

  it('a folder above with the sticky bit (/tmp) or only group-writable: none', () => {
    expect(openModelDirProblem(chain(0o755, 0o1777, 0o755, 0o755))).toBeUndefined();
    expect(openModelDirProblem(chain(0o755, 0o775, 0o755, 0o755))).toBeUndefined();
  });
});
