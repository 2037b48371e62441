/**
 * Imported first by main.ts, before Nest: Node.js 24 LTS is the service's one runtime. An older Node stops here
 * with one line and exit code 1, instead of failing later somewhere inside Nest's ESM-only packages.
 */
import { nodeVersionProblem } from './node-version';

const problem = nodeVersionProblem(process.versions.node);
if (problem) {
  process.stderr.write(`sc-spawner: ${problem}\n`);
  process.exit(1);
}
