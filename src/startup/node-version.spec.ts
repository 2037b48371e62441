import { nodeVersionProblem } from './node-version';

describe('nodeVersionProblem', () => {
  it.each(['24.9.0', '24.21.0', '26.1.0'])('accepts Node.js %s', (version) => {
    expect(nodeVersionProblem(version)).toBeUndefined();
  });

  it.each(['20.20.2', '22.12.0', '24.8.1'])('refuses Node.js %s in one line naming Node.js 24', (version) => {
    const problem = nodeVersionProblem(version);
    expect(problem).toContain('Node.js 24 LTS');
    expect(problem).toContain(`v${version}`);
    expect(problem).not.toContain('\n');
  });
});
