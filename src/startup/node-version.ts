/** The oldest Node.js the service runs on: 24.9, the Node 24 LTS release from which Jest loads Nest's ESM packages. */
export const MIN_NODE_VERSION = { major: 24, minor: 9 } as const;

/** Why this Node.js version cannot run the service (one line), or undefined when it can. */
export function nodeVersionProblem(version: string): string | undefined {
  const [major, minor] = version.split('.').map(Number);
  const { major: needMajor, minor: needMinor } = MIN_NODE_VERSION;
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return undefined;
  return `needs Node.js 24 LTS (${needMajor}.${needMinor} or later); this is Node.js v${version}. Install Node.js 24, or run npm start, which runs it on Node.js 24 from the npm registry`;
}
