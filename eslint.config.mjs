// @ts-check
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { readdirSync } from 'fs';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** The rooms of the house: every folder of src/. */
const ROOMS = readdirSync(new URL('./src', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

/** Outside a room, it is entered through its door (its index.ts) only: one pattern per room. */
const DOORS = ROOMS.map((room) => ({
  group: [`**/${room}/*`, `!**/${room}/index`],
  message: `Enter ${room} through its door: import from its folder (src/${room}/index.ts), not a file inside it.`,
}));

/** Out of src/config (a file at `depth` below it) into another room. */
function configOnlyParses(outside) {
  return { group: [outside], message: 'src/config only parses: it imports no other room.' };
}

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'test-artifacts/', 'node_modules/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node, ...globals.jest },
      sourceType: 'commonjs',
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Tests read untyped JSON bodies (supertest, ws messages) on purpose: asserting on them is the point.
    files: ['test/**/*.ts', '**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // HOOPS Server configuration files are CommonJS modules that require their enums, as the HOOPS package ships them.
    files: ['test/fixtures/hoops/**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Preloaded into the built service by the footprint bench (NODE_OPTIONS=--require): plain CommonJS, no build step.
    files: ['test/bench/gc-on-signal.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The simulator loads https and child_process only when a run needs them: its start-up time is measured.
    files: ['apps/sc-server-sim/src/**/*.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The shape of the house, for production code (tests and specs excluded): small files and functions, and
    // rooms entered through their doors.
    files: ['src/**/*.ts', 'apps/**/*.ts', 'libs/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'max-lines': ['error', { max: 200, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
      'no-restricted-imports': ['error', { patterns: DOORS }],
    },
  },
  {
    // config/ only parses: it imports no other room (reading files and probing the machine live in startup/).
    files: ['src/config/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...DOORS, configOnlyParses('../*')] }] },
  },
  {
    files: ['src/config/*/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...DOORS, configOnlyParses('../../*')] }] },
  },
  {
    // The supervisor's rules are pure decisions: no Nest, no adapters, no running state.
    files: ['src/supervisor/rules/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...DOORS,
            {
              group: ['@nestjs/*', '**/adapters', '**/adapters/**', '**/runtime', '**/runtime/**'],
              message: 'supervisor/rules holds pure decisions: no Nest, adapters or runtime.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', 'apps/sc-server-sim/bin/*'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The dashboard: browser ES modules, type-checked by tsc (tsconfig.dashboard.json), small like production code.
    files: ['src/dashboard/public/**/*.js'],
    languageOptions: { globals: { ...globals.browser }, sourceType: 'module' },
    rules: {
      'max-lines': ['error', { max: 200, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Imports go one way: the modules that hold, fetch and draw import none that act (main.js wires the cards'
    // buttons); lint-rules.e2e-spec.ts also checks that the dashboard's imports form no circle at all.
    files: [
      'src/dashboard/public/{store,dom,states,api,errors,counts,card-view,sessions}.js',
      'src/dashboard/public/{capacity,chart,cluster,sessions-cost,event-feed}.js',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['./main.js', './actions.js', './viewer.js', './feed.js'],
              message: 'the dashboard draws downward: actions, viewers and the feed import what draws, not back.',
            },
          ],
        },
      ],
    },
  },
  {
    // A viewer is attached by actions.js and main.js: it imports neither, nor the feed.
    files: ['src/dashboard/public/viewer.js'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['./main.js', './actions.js', './feed.js'], message: 'viewer.js draws downward only.' }],
        },
      ],
    },
  },
  prettier,
);
