/**
 * The build is self-contained: dist/ with package.json and package-lock.json, installed with production
 * dependencies only in a folder of its own, runs the service from yet another working directory and spawns
 * the simulator bundled in that folder, with the dashboard and the API docs served from it too.
 */
import { spawn } from 'child_process';
import { once } from 'events';
import { cpSync, existsSync, readFileSync, realpathSync } from 'fs';
import * as path from 'path';
import request from 'supertest';
import { freePort } from './support/ports';
import { Cleanup, useCleanup } from './support/processes';
import { REPO_ROOT, startServiceProcess } from './support/spawner-app';
import { procArgv, waitForProcessGone, type SpawnView } from './support/spawner-e2e';
import { makeTempDir } from './support/temp';
import { connectViewer } from './support/viewer-client';
import { withTimeout } from './support/wait';

const PORT_BASE = 23400;
const PORT_COUNT = 10;
const INSTALL_TIMEOUT_MS = 5 * 60_000;

/** A fresh folder holding only what a deployment ships: the build and the two package files. */
function copyPackage(cleanup: Cleanup): string {
  const dir = realpathSync(makeTempDir(cleanup, 'sc-packaged-'));
  for (const entry of ['dist', 'package.json', 'package-lock.json']) {
    cpSync(path.join(REPO_ROOT, entry), path.join(dir, entry), { recursive: true });
  }
  return dir;
}

/** `npm ci --omit=dev` in dir, from this machine's npm cache; resolves with how long it took, in ms. */
async function installProductionDependencies(dir: string, cleanup: Cleanup): Promise<number> {
  const startedAt = Date.now();
  // --ignore-scripts: no dependency's install script runs (@scarf/scarf's postinstall would phone home).
  const args = ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'];
  // Niced: the install is CPU-heavy, and the test file running beside this one has 2-second ready timeouts.
  const child = spawn('nice', ['-n', '10', 'npm', ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  cleanup.trackChild(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (code !== 0) throw new Error(`npm ${args.join(' ')} failed (code ${code}, signal ${signal}):\n${output}`);
  return Date.now() - startedAt;
}

describe('packaged build (e2e, dist/ installed on its own)', () => {
  const packageCleanup = new Cleanup();
  const cleanup = useCleanup();
  let packageDir: string;

  beforeAll(async () => {
    if (!existsSync(path.join(REPO_ROOT, 'dist/src/main.js')))
      throw new Error('dist/ is missing: run "npm run build" first (npm test does)');
    packageDir = copyPackage(packageCleanup);
    const installMs = await installProductionDependencies(packageDir, packageCleanup);
    console.log(`npm ci --omit=dev in ${packageDir}: ${(installMs / 1000).toFixed(1)} s`);
  }, INSTALL_TIMEOUT_MS);

  afterAll(() => packageCleanup.run());

  it('serves the dashboard and API docs, spawns the bundled simulator from the package folder, and stops cleanly on SIGTERM', async () => {
    expect(existsSync(path.join(packageDir, 'node_modules/@nestjs/cli'))).toBe(false); // dev dependencies really left out

    const service = await startServiceProcess(
      await freePort(),
      {
        SC_PORT_BASE: String(PORT_BASE),
        SC_PORT_COUNT: String(PORT_COUNT),
        SC_EXECUTABLE: undefined, // the bundled simulator
        NODE_PATH: undefined, // modules come from the package's node_modules, never from elsewhere
      },
      { main: path.join(packageDir, 'dist/src/main.js'), cwd: makeTempDir(cleanup, 'sc-packaged-cwd-') },
    );
    cleanup.add(() => service.stop(2000), `service process ${service.child.pid}`);

    // ---- dashboard and API docs, from the package's dist/ and node_modules
    const dashboard = await request(service.url).get('/').expect(200);
    expect(dashboard.headers['content-type']).toMatch(/^text\/html/);
    expect(dashboard.text).toBe(readFileSync(path.join(REPO_ROOT, 'src/dashboard/public/index.html'), 'utf8'));
    await request(service.url).get('/assets/main.js').expect(200);

    const docs = await request(service.url).get('/docs').expect(200);
    expect(docs.headers['content-type']).toMatch(/^text\/html/);
    expect(docs.text).toContain('<title>Swagger UI</title>');
    await request(service.url).get('/docs/swagger-ui-bundle.js').expect(200);
    const openApi = await request(service.url).get('/docs-json').expect(200);
    expect(openApi.body.openapi).toMatch(/^3\./);
    expect(Object.keys(openApi.body.paths)).toContain('/spawn');

    // ---- a spawn runs the simulator inside the package folder, and a viewer gets its hello
    const response = await request(service.url).post('/spawn').send({}).expect(200);
    const spawned = response.body as SpawnView;
    expect(spawned).toMatchObject({ state: 'ready', pid: expect.any(Number), wsPort: expect.any(Number) });
    const pid = spawned.pid!;
    cleanup.trackPid(pid, { group: true }); // safety net only

    const argv = procArgv(pid);
    expect(argv[1]).toBe(path.join(packageDir, 'dist/apps/sc-server-sim/bin/ts3d_sc_server'));
    expect(argv.join(' ')).not.toContain(REPO_ROOT); // license and models come from the package too

    const viewer = await connectViewer(`ws://127.0.0.1:${spawned.wsPort}`, { cleanup });
    expect(await viewer.nextJson()).toMatchObject({ type: 'hello', id: spawned.id });

    await request(service.url).delete(`/spawns/${spawned.id}`).expect(202);
    await withTimeout(viewer.closed, 5000, 'the viewer socket to close after DELETE');

    // ---- SIGTERM: a clean exit, with no simulator left
    expect(await service.stop()).toEqual({ code: 0, signal: null });
    await waitForProcessGone(pid);
  });
});
