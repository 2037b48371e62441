import * as vm from 'node:vm';
import { ConfigError } from './app-config';

/** How long a HOOPS configuration file may run (it is data with a little code, so this is generous). */
export const HOOPS_CONFIG_EVAL_TIMEOUT_MS = 1000;

/**
 * Stand-ins for the HOOPS package's `server/node/lib/SpawnerTypes` enums, so a Config.js evaluates without the
 * package. Only the names matter here (the log settings they feed have no equivalent); the categories are bit
 * flags because Config.js combines them with `|`. Defined inside the sandbox: nothing of this process is reachable.
 */
const sandboxBootstrap = (filename: string, dirname: string): string => `
(function () {
  globalThis.__filename = ${JSON.stringify(filename)};
  globalThis.__dirname = ${JSON.stringify(dirname)};
  const spawnerTypes = Object.freeze({
    IPVersion: Object.freeze({ Auto: 0, ForceIPv4: 1 }),
    LogLevel: Object.freeze({ Error: 0, Warn: 1, Info: 2, Verbose: 3, Debug: 4 }),
    LogTimeFormat: Object.freeze({ ISO: 0, Local: 1, Delta: 2 }),
    LogSpawnCategory: Object.freeze({ None: 0, Error: 1, Warn: 2, Info: 4, Debug: 8, All: 15 }),
  });
  globalThis.require = function require(id) {
    if (typeof id === 'string' && /(^|[\\\\/])SpawnerTypes(\\.js)?$/.test(id)) return spawnerTypes;
    throw new Error('require(' + JSON.stringify(String(id)) + ') is not available: a HOOPS configuration file may only require SpawnerTypes');
  };
  globalThis.module = { exports: {} };
  globalThis.exports = globalThis.module.exports;
})();
`;

/** Runs the file as a CommonJS module body; a throw is caught inside the sandbox and kept as text. */
const wrap = (source: string): string =>
  `try { (function (exports, require, module, __filename, __dirname) {\n${source}\n}).call(module.exports, exports, require, module, __filename, __dirname); } catch (error) { globalThis.__thrown = String(error && error.stack ? error.stack : error); }`;

/** Reads module.exports as plain data inside the sandbox (getters run there, under the timeout): regular expressions as text. */
const EXTRACT = `(function () {
  if (globalThis.__thrown !== undefined) return JSON.stringify({ thrown: globalThis.__thrown });
  const value = module.exports;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return JSON.stringify({ notObject: Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value });
  return JSON.stringify({ config: value }, function (key, v) {
    if (v instanceof RegExp) return String(v);
    if (typeof v === 'function') return '[function]';
    return v;
  });
})()`;

/**
 * Evaluates a HOOPS Server configuration file (Config.js / UserConfig.js: a CommonJS module assigning an object
 * to module.exports) in a node:vm context that has `module`, `exports`, `__dirname`, `__filename` and a `require`
 * answering only SpawnerTypes; no process, no file system, no string code generation, and a timeout. The
 * context holds no object or function of this process, so nothing in it leads back to `process`. (node:vm is
 * still no security boundary against hostile code: a Config.js is trusted code, protected like the binary.) Returns its settings as plain data; any failure is a ConfigError naming the file.
 */
export function evaluateHoopsConfig(source: string, filename: string, dirname: string): Record<string, unknown> {
  const fail = (why: string): never => {
    throw new ConfigError([`HOOPS_CONFIG ${filename}: ${why}`]);
  };
  // A null-prototype object and nothing of ours in it: a host object would lead back to this realm's Function
  // (globalThis.constructor.constructor('return process')()); everything the file sees is built inside, from text.
  const context = vm.createContext(Object.create(null) as vm.Context, {
    codeGeneration: { strings: false, wasm: false },
    microtaskMode: 'afterEvaluate',
  });
  vm.runInContext(sandboxBootstrap(filename, dirname), context);
  let script: vm.Script;
  try {
    script = new vm.Script(wrap(source), { filename, lineOffset: -1 });
  } catch (error) {
    return fail(`not valid JavaScript: ${describe(error, filename)}`);
  }
  let extracted: string;
  try {
    script.runInContext(context, { timeout: HOOPS_CONFIG_EVAL_TIMEOUT_MS });
    extracted = String(vm.runInContext(EXTRACT, context, { timeout: HOOPS_CONFIG_EVAL_TIMEOUT_MS }));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_SCRIPT_EXECUTION_TIMEOUT')
      return fail(`evaluating it did not finish within ${HOOPS_CONFIG_EVAL_TIMEOUT_MS} ms`);
    return fail(`evaluating it failed: ${describe(error, filename)}`);
  }
  const result = JSON.parse(extracted) as { thrown?: string; notObject?: string; config?: Record<string, unknown> };
  if (result.thrown !== undefined) return fail(`evaluating it threw ${describe(result.thrown, filename)}`);
  if (result.config === undefined)
    return fail(`module.exports must be an object of settings, got ${result.notObject ?? 'nothing'}`);
  return result.config;
}

/** The error's first line, with the line of the file it points at (never a whole stack). */
function describe(error: unknown, filename: string): string {
  const text = typeof error === 'string' ? error : String((error as { stack?: unknown })?.stack ?? error);
  const lines = text.split('\n');
  const headline = lines.find((line) => /^\w*(Error|Exception)(:|$)/.test(line.trim()));
  const escaped = filename.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const at = new RegExp(`${escaped}:(\\d+)`).exec(text);
  return `${(headline ?? lines[0]).trim()}${at ? ` (line ${at[1]})` : ''}`;
}
