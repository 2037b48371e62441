/**
 * The linter keeps the shape of the house: each rule of eslint.config.mjs that guards it catches a deliberate
 * violation, in the place it guards, and lets the same code through where it is allowed.
 */
import { ESLint } from 'eslint';
import { existsSync, readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { REPO_ROOT } from './support/spawner-app';

/** The repository's own configuration, without type information (these rules need none): files need not exist. */
function linter(): ESLint {
  return new ESLint({
    cwd: REPO_ROOT,
    overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
    ruleFilter: ({ ruleId }) => ['max-lines', 'max-lines-per-function', 'no-restricted-imports'].includes(ruleId),
  });
}

async function ruleIds(code: string, filePath: string): Promise<string[]> {
  const [result] = await linter().lintText(code, { filePath });
  return result.messages.map((message) => message.ruleId ?? `fatal: ${message.message}`);
}

const longFile = Array.from({ length: 201 }, (_, i) => `export const value${i} = ${i};`).join('\n');
const longFunction = `export function long(): number {\n  let n = 0;\n${'  n += 1;\n'.repeat(80)}  return n;\n}\n`;

describe('lint rules that keep the shape of the house (e2e: ESLint with eslint.config.mjs)', () => {
  it('max-lines: a production file over 200 lines of code fails; a test file does not', async () => {
    expect(await ruleIds(longFile, 'src/http/too-long.ts')).toContain('max-lines');
    expect(await ruleIds(longFile, 'apps/sc-server-sim/src/too-long.ts')).toContain('max-lines');
    expect(await ruleIds(longFile, 'src/http/too-long.spec.ts')).not.toContain('max-lines');
    expect(await ruleIds(longFile, 'test/too-long.e2e-spec.ts')).not.toContain('max-lines');
  });

  it('max-lines-per-function: a function over 80 lines fails in production code', async () => {
    expect(await ruleIds(longFunction, 'libs/sc-protocol/src/too-long.ts')).toContain('max-lines-per-function');
    expect(await ruleIds(longFunction, 'test/support/too-long.ts')).not.toContain('max-lines-per-function');
  });

  it('every room of src/ has a door (index.ts) and is entered through it only', async () => {
    const src = path.join(REPO_ROOT, 'src');
    const rooms = readdirSync(src, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(rooms).toEqual(expect.arrayContaining(['adapters', 'cpu-priority', 'http', 'supervisor', 'config']));
    for (const room of rooms) {
      expect({ room, door: existsSync(path.join(src, room, 'index.ts')) }).toEqual({ room, door: true });
      const elsewhere = room === 'health' ? 'drain' : 'health';
      const inside = `import { x } from '../${room}/some-file';\nexport { x };\n`;
      expect({ room, rules: await ruleIds(inside, `src/${elsewhere}/probe.ts`) }).toEqual({
        room,
        rules: ['no-restricted-imports'],
      });
      const deeper = `import { x } from '../../${room}/sub/some-file';\nexport { x };\n`;
      expect({ room, rules: await ruleIds(deeper, 'src/supervisor/runtime/probe.ts') }).toEqual({
        room,
        rules: ['no-restricted-imports'],
      });
      const fromTop = `import { x } from './${room}/some-file';\nexport { x };\n`;
      expect({ room, rules: await ruleIds(fromTop, 'src/app.module.ts') }).toEqual({
        room,
        rules: ['no-restricted-imports'],
      });
      const door = `import { x } from '../${room}';\nexport { x };\n`;
      expect({ room, rules: await ruleIds(door, `src/${elsewhere}/probe.ts`) }).toEqual({ room, rules: [] });
      const sibling = "import { x } from './some-file';\nexport { x };\n";
      expect({ room, rules: await ruleIds(sibling, `src/${room}/probe.ts`) }).toEqual({ room, rules: [] });
    }
  });

  it('the settings are reached through the door of config/ only', async () => {
    const inside = "import { readAppConfig } from '../config/app-config';\nexport { readAppConfig };\n";
    expect(await ruleIds(inside, 'src/health/probe.ts')).toEqual(['no-restricted-imports']);
    const section = "import { EDGE_SETTINGS } from '../../config/sections/edge.section';\nexport { EDGE_SETTINGS };\n";
    expect(await ruleIds(section, 'src/supervisor/rules/probe.ts')).toEqual(['no-restricted-imports']);
    const door = "import { EDGE_SETTINGS } from '../config';\nexport { EDGE_SETTINGS };\n";
    expect(await ruleIds(door, 'src/health/probe.ts')).toEqual([]);
    const withinConfig = "import { EDGE_SETTINGS } from './sections/edge.section';\nexport { EDGE_SETTINGS };\n";
    expect(await ruleIds(withinConfig, 'src/config/probe.ts')).toEqual([]);
  });

  it('config/ imports no other room', async () => {
    const adapter = "import { FileSystem } from '../adapters';\nexport { FileSystem };\n";
    expect(await ruleIds(adapter, 'src/config/probe.ts')).toEqual(['no-restricted-imports']);
    expect(await ruleIds(adapter, 'src/startup/probe.ts')).toEqual([]);
    const sibling = "import { EnvReader } from './env-reader';\nexport { EnvReader };\n";
    expect(await ruleIds(sibling, 'src/config/probe.ts')).toEqual([]);
    const fromSection = "import { FileSystem } from '../../adapters';\nexport { FileSystem };\n";
    expect(await ruleIds(fromSection, 'src/config/sections/probe.ts')).toEqual(['no-restricted-imports']);
    const parent = "import { EnvReader } from '../env-reader';\nexport { EnvReader };\n";
    expect(await ruleIds(parent, 'src/config/sections/probe.ts')).toEqual([]);
  });

  it('the dashboard imports one way: what draws the sessions imports nothing that acts on them', async () => {
    const back = "import { closeSession } from './actions.js';\nexport { closeSession };\n";
    for (const drawing of ['card-view.js', 'sessions.js', 'counts.js'])
      expect(await ruleIds(back, `src/dashboard/public/${drawing}`)).toEqual(['no-restricted-imports']);
    const viewer = "import { connectViewer } from './viewer.js';\nexport { connectViewer };\n";
    expect(await ruleIds(viewer, 'src/dashboard/public/card-view.js')).toEqual(['no-restricted-imports']);
    expect(await ruleIds(viewer, 'src/dashboard/public/main.js')).toEqual([]);
    const down = "import { render } from './card-view.js';\nexport { render };\n";
    expect(await ruleIds(down, 'src/dashboard/public/viewer.js')).toEqual([]);
    expect(await ruleIds(back, 'src/dashboard/public/viewer.js')).toEqual(['no-restricted-imports']);
    expect(await ruleIds(back, 'src/dashboard/public/capacity.js')).toEqual(['no-restricted-imports']);
  });

  it("the dashboard's modules import one another without a circle", () => {
    const folder = path.join(REPO_ROOT, 'src', 'dashboard', 'public');
    const imports = new Map<string, string[]>();
    for (const file of readdirSync(folder).filter((name) => name.endsWith('.js'))) {
      // Without comments: JSDoc types name modules as import('./store.js'), which loads nothing.
      const text = readFileSync(path.join(folder, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
      expect({ file, dynamic: /\bimport\s*\(/.test(text) }).toEqual({ file, dynamic: false });
      imports.set(
        file,
        [...text.matchAll(/^import\b[^;]*?from '\.\/([\w-]+\.js)';/gms)].map((match) => match[1]),
      );
    }
    expect(imports.get('main.js')).toContain('actions.js'); // the parse finds imports
    const circles: string[] = [];
    const visit = (file: string, trail: string[]) => {
      if (trail.includes(file)) return void circles.push([...trail.slice(trail.indexOf(file)), file].join(' -> '));
      for (const next of imports.get(file) ?? []) visit(next, [...trail, file]);
    };
    for (const file of imports.keys()) visit(file, []);
    expect(circles).toEqual([]);
  });

  it('supervisor/rules imports neither Nest, adapters nor runtime', async () => {
    for (const source of ['@nestjs/common', '../../adapters', '../runtime/spawn-registry']) {
      const code = `import * as imported from '${source}';\nexport { imported };\n`;
      expect({ source, rules: await ruleIds(code, 'src/supervisor/rules/probe.ts') }).toEqual({
        source,
        rules: ['no-restricted-imports'],
      });
    }
    const sibling = "import { SPAWN_STATES } from './spawn-state';\nexport { SPAWN_STATES };\n";
    expect(await ruleIds(sibling, 'src/supervisor/rules/probe.ts')).toEqual([]);
  });
});
