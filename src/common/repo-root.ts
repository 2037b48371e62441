import * as path from 'path';

/**
 * The repository root, found from this file both in src/common/ (ts-jest) and in dist/src/common/ (built).
 * Files tsc does not copy (the simulator launcher, dashboard assets) are located from here.
 */
export const REPO_ROOT = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');
